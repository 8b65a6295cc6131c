"""Provides a private pcscd with the vpcd driver, its vpcd card slots, and the lock its users share.

Used by the PC/SC tests (tests/pcsc/conftest.py, through fixtures) and by the PC/SC benchmark
(bench/pcsc/). Only one pcscd can run on a machine (it owns /run/pcscd) and only one program
can serve the vpcd ports, so every user takes the lock file `LOCK_FILE` first: a second pytest
run, or a benchmark, waits for the first one to end.

- `PcscDaemon(workdir)`: `start()`, `stop()`, `kill()`, `restart()`, `reader(slot)` (the PC/SC
  reader name), `wait_card(slot, present)`, `event_count(slot)`.
- `CardSlot(daemon, slot)`: a `VpcdCardServer` on the slot's port; `insert(card)` and `remove()`
  return once pcscd reports the change.
- `private_pcscd(workdir)`: a context manager that checks the installation, takes the lock,
  clears away a pcscd left behind by a crashed run, starts pcscd and yields it; on the way out
  it stops pcscd, tidies /run/pcscd and lets go of the lock.

Failures go through a `fail(message)` callable that must not return: `pytest.fail` in the tests,
by default `PcscdError` is raised.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, NoReturn

SETUP_HINT = "run `bash .ci/setup` (it installs pcscd, vsmartcard-vpcd and pyscard)"

try:
    from smartcard import scard
except ImportError as missing:  # pragma: no cover - the setup installs pyscard
    raise ImportError(f"the private pcscd needs pyscard ({missing}): {SETUP_HINT}") from missing

from devices.apdu import ApduResponder
from devices.vpcd import VpcdCardServer, slot_port

VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_RUN_DIR = Path("/run/pcscd")
PCSCD_PID_FILE = PCSCD_RUN_DIR / "pcscd.pid"
PCSCD_SOCKET = PCSCD_RUN_DIR / "pcscd.comm"
LOCK_FILE = Path(tempfile.gettempdir()) / "kiosk-pcsc-tests.lock"
MARKER = "kiosk-pcsc-"  # in the config path of every pcscd started here (work dirs are named with it)
LOCK_WAIT_SECONDS = 600
START_TIMEOUT = 10.0
CARD_TIMEOUT = 5.0

Fail = Callable[[str], NoReturn]


class PcscdError(Exception):
    """The private pcscd or a vpcd slot did not do what was asked; the message says what to do."""


def raise_error(message: str) -> NoReturn:
    """The default `fail`: raise PcscdError."""
    raise PcscdError(message)


class PcscDaemon:
    """A pcscd of our own, in the foreground, with only the vpcd driver configured (no auto-exit)."""

    def __init__(self, workdir: Path, fail: Fail = raise_error) -> None:
        """Args:
            workdir: where its configuration and log go; its path should contain `MARKER`, so
                that a pcscd left behind by a crashed run is recognised (and ended) by the next.
            fail: called with a message when pcscd or a card does not do what was asked.
        """
        self.workdir = workdir
        self.fail = fail
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(VPCD_CONF, self.conf_dir / "vpcd")
        self.log_path = workdir / "pcscd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_poll = 0.02  # seconds between two looks at the reader list while pcscd starts
        self.starts = 0
        self.pids: set[int] = set()

    @staticmethod
    def reader(slot: int) -> str:
        """Returns:
            The PC/SC name of vpcd slot `slot` ("Virtual PCD 00 00" for slot 0).
        """
        return f"Virtual PCD 00 {slot:02d}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running and self.process else None

    def start(self) -> None:
        """Start pcscd (when it is not running) and return once both vpcd readers are listed."""
        if self.running:
            return
        pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts + 1} ----\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [pcscd, "--foreground", "--config", str(self.conf_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        self.pids.add(self.process.pid)
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        wanted = {self.reader(0), self.reader(1)}
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.fail(f"pcscd exited with status {self.process.returncode}:\n{self.log_tail()}\n"
                          "(another pcscd or a systemd pcscd.socket may hold /run/pcscd; stop it first)")
            if wanted <= set(self.reader_names()):
                return
            if time.monotonic() > deadline:
                self.fail(f"pcscd did not list the vpcd readers within {START_TIMEOUT} s:\n{self.log_tail()}")
            try:
                self.process.wait(self.ready_poll)  # returns early when pcscd dies
            except subprocess.TimeoutExpired:
                pass

    @staticmethod
    def reader_names() -> list[str]:
        """Returns:
            The readers pcscd lists now (empty without pcscd).
        """
        rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            return []
        try:
            rv, names = scard.SCardListReaders(context, [])
            return list(names) if rv == scard.SCARD_S_SUCCESS else []
        finally:
            scard.SCardReleaseContext(context)

    def stop(self) -> None:
        """Stop pcscd the polite way (SIGTERM) and wait for it to be gone."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill pcscd (SIGKILL, as in a crash) and wait for it to be gone."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def tidy(self) -> None:
        """After pcscd was killed last: remove the files it could not clean up."""
        running = running_pcscd()
        if running is None and PCSCD_PID_FILE.exists():
            try:
                pid = int(PCSCD_PID_FILE.read_text(errors="replace").split()[0])
            except (OSError, ValueError, IndexError):
                return
            if pid in self.pids:
                PCSCD_PID_FILE.unlink(missing_ok=True)
                PCSCD_SOCKET.unlink(missing_ok=True)

    def _end(self, how: signal.Signals) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def wait_card(self, slot: int, present: bool, timeout: float = CARD_TIMEOUT, changed_from: int | None = None) -> int:
        """Wait until pcscd reports a card in slot `slot` (or none), without polling.

        Args:
            changed_from: an event count (`event_count`) the slot must have moved past first.
        Returns:
            The reader's event count then.
        """
        name = self.reader(slot)
        rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            self.fail(f"no pcscd: {scard.SCardGetErrorMessage(rv)}")
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        try:
            while True:
                remaining = deadline - time.monotonic()
                rv, states = scard.SCardGetStatusChange(context, max(1, int(remaining * 1000)), [(name, state)])
                if rv == scard.SCARD_S_SUCCESS:
                    event = states[0][1]
                    count = event >> 16
                    if bool(event & scard.SCARD_STATE_PRESENT) == present and (changed_from is None or count != changed_from):
                        return count
                    state = event & ~scard.SCARD_STATE_CHANGED
                elif rv != scard.SCARD_E_TIMEOUT:
                    self.fail(f"waiting for {name}: {scard.SCardGetErrorMessage(rv)}")
                if time.monotonic() >= deadline:
                    self.fail(f"{name}: pcscd did not report the card {'in' if present else 'out'} within {timeout} s")
        finally:
            scard.SCardReleaseContext(context)

    def event_count(self, slot: int) -> int:
        """Returns:
            How many insertions and removals pcscd counted in slot `slot` so far.
        """
        rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            self.fail(f"no pcscd: {scard.SCardGetErrorMessage(rv)}")
        try:
            rv, states = scard.SCardGetStatusChange(context, 0, [(self.reader(slot), scard.SCARD_STATE_UNAWARE)])
            return states[0][1] >> 16
        finally:
            scard.SCardReleaseContext(context)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no pcscd log)"


class CardSlot:
    """One vpcd slot of the private pcscd: a `VpcdCardServer` and waits on what pcscd sees."""

    def __init__(self, daemon: PcscDaemon, slot: int) -> None:
        self.daemon = daemon
        self.slot = slot
        self.reader_name = daemon.reader(slot)
        self.server = VpcdCardServer(None, port=slot_port(slot)).start()

    def insert(self, card: ApduResponder) -> None:
        """Put `card` in and return once pcscd reports it present (a mute card counts as present)."""
        before = self.daemon.event_count(self.slot)
        self.server.insert(card)
        self.daemon.wait_card(self.slot, present=True, changed_from=before)

    def remove(self) -> None:
        """Take the card out and return once pcscd reports the slot empty."""
        self.server.remove()
        self.daemon.wait_card(self.slot, present=False)

    def close(self) -> None:
        self.server.stop()


def check_installed(fail: Fail = raise_error) -> None:
    """Fail unless pcscd and the vpcd driver are installed."""
    missing = []
    if not (shutil.which("pcscd") or Path("/usr/sbin/pcscd").exists()):
        missing.append("pcscd")
    if not VPCD_DRIVER.exists() or not VPCD_CONF.exists():
        missing.append(f"the vpcd driver ({VPCD_DRIVER}, {VPCD_CONF})")
    if missing:
        fail(f"the private pcscd needs {', '.join(missing)}: {SETUP_HINT}")


def acquire_lock(notify: Callable[[str], None] = lambda text: None, fail: Fail = raise_error,
                 wait_seconds: float = LOCK_WAIT_SECONDS) -> int:
    """Take `LOCK_FILE` (waiting for whoever holds it: a test run or a benchmark).

    Args:
        notify: told once, with a line of text, when the lock is held by someone else.
    Returns:
        The file descriptor holding the lock; `release_lock` it.
    """
    handle = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(handle)
                raise
        if not told:
            notify(f"waiting for another run's PC/SC tests or benchmark to end ({LOCK_FILE})")
            told = True
        if time.monotonic() > deadline:
            os.close(handle)
            fail(f"another run kept {LOCK_FILE} locked for {wait_seconds} s")
        time.sleep(0.2)  # another process holds the lock: nothing here to wait on but time


def release_lock(handle: int) -> None:
    os.close(handle)  # closing the last descriptor lets go of the flock


def running_pcscd() -> tuple[int, str] | None:
    """Returns:
        The pid and command line of the pcscd named in /run/pcscd/pcscd.pid, if it runs.
    """
    try:
        pid = int(PCSCD_PID_FILE.read_text(errors="replace").split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None
    return pid, cmdline


def clear_the_way(fail: Fail = raise_error) -> None:
    """Make sure no other pcscd owns /run/pcscd; one left behind by a crashed run of ours is ended."""
    running = running_pcscd()
    if running is not None:
        pid, cmdline = running
        if MARKER not in cmdline:
            fail(f"another pcscd (pid {pid}: {cmdline.strip()}) is running; the private pcscd has the vpcd "
                 "driver only: stop it first (systemctl stop pcscd.socket pcscd.service, or kill it)")
        # A pcscd started here in an earlier run that crashed: end it and wait for it to go.
        handle = os.pidfd_open(pid)
        try:
            os.kill(pid, signal.SIGKILL)
            select.select([handle], [], [], 5)
        finally:
            os.close(handle)
    elif PCSCD_SOCKET.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            PCSCD_SOCKET.unlink(missing_ok=True)  # nobody listens; pcscd refuses to start beside a stale one
        else:
            fail(f"something (a systemd pcscd.socket?) listens on {PCSCD_SOCKET}; stop it first "
                 "(systemctl stop pcscd.socket pcscd.service)")
        finally:
            probe.close()


@contextlib.contextmanager
def private_pcscd(workdir: Path, fail: Fail = raise_error,
                  notify: Callable[[str], None] = lambda text: None) -> Iterator[PcscDaemon]:
    """The private pcscd, running, for the duration of the block (under the lock).

    Args:
        workdir: for `PcscDaemon`; its path should contain `MARKER`.
        fail: how failures are reported (must not return).
        notify: told when the lock is held by another run.
    """
    check_installed(fail)
    lock = acquire_lock(notify, fail)
    try:
        daemon = PcscDaemon(workdir, fail)
        try:
            clear_the_way(fail)
            daemon.start()
            yield daemon
        finally:
            daemon.stop()
            daemon.tidy()
    finally:
        release_lock(lock)
