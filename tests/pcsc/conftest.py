"""Provides the PC/SC test bench: a private pcscd with the vpcd driver, virtual cards in its two slots, readers over it.

Fixtures (all for tests under tests/pcsc/, marked `@pytest.mark.pcsc`):
- `pcscd`: the running private pcscd (`PcscDaemon`): `start()`, `stop()`, `kill()`, `restart()`,
  `reader(slot)` (the PC/SC reader name), `wait_card(slot, present)`. One per test session; a test
  that stopped it gets it started again by the next test.
- `guardian_slot` / `psam_slot`: `CardSlot`s for vpcd slot 0 (empty at the start of each test) and
  slot 1 (holding the virtual test PSAM for the whole session): `insert(card)` and `remove()`
  return once pcscd reports the change; `server` is the `VpcdCardServer`.
- `guardian_reader` (exclusive, slot 0) and `psam_reader` (shared, slot 1): `PcscReader`s.
- `service`: `ReaderCardService` over `guardian_reader`, with the PSAM in slot 1 as key holder.
- `profiles`, `master_key`, `card_of(name)`: the demo profiles of config/cards/ and fresh virtual cards.

Only one test process at a time can own pcscd and the vpcd ports: a lock file makes a second
pytest run wait for the first one's PC/SC tests to end.
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
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

SETUP_HINT = "run `bash .ci/setup` (it installs pcscd, vsmartcard-vpcd and pyscard)"

try:
    from smartcard import scard
except ImportError as missing:  # pragma: no cover - the setup installs pyscard
    raise ImportError(f"the PC/SC tests need pyscard ({missing}): {SETUP_HINT}") from missing

from devices.apdu import ApduResponder
from devices.pcsc import PcscReader
from devices.profiles import CardProfile, load_profiles, psam_master_key
from devices.psam import VirtualPsam, psam_key_holder_factory
from devices.service import ReaderCardService
from devices.virtual_card import VirtualCard
from devices.vpcd import VpcdCardServer, slot_port
from kiosk import CONFIG_DIR

VPCD_CONF = Path("/etc/reader.conf.d/vpcd")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_RUN_DIR = Path("/run/pcscd")
PCSCD_PID_FILE = PCSCD_RUN_DIR / "pcscd.pid"
PCSCD_SOCKET = PCSCD_RUN_DIR / "pcscd.comm"
LOCK_FILE = Path(tempfile.gettempdir()) / "kiosk-pcsc-tests.lock"
MARKER = "kiosk-pcsc-"  # in the config path of every pcscd these tests start
LOCK_WAIT_SECONDS = 600
START_TIMEOUT = 10.0
CARD_TIMEOUT = 5.0


class PcscDaemon:
    """A pcscd of our own, in the foreground, with only the vpcd driver configured (no auto-exit)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(VPCD_CONF, self.conf_dir / "vpcd")
        self.log_path = workdir / "pcscd.log"
        self.process: subprocess.Popen[bytes] | None = None
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
                pytest.fail(f"pcscd exited with status {self.process.returncode}:\n{self.log_tail()}\n"
                            "(another pcscd or a systemd pcscd.socket may hold /run/pcscd; stop it first)")
            if wanted <= set(self.reader_names()):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"pcscd did not list the vpcd readers within {START_TIMEOUT} s:\n{self.log_tail()}")
            try:
                self.process.wait(0.02)  # returns early when pcscd dies
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
        """After a test killed pcscd last: remove the files it could not clean up."""
        running = _running_pcscd()
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
        assert rv == scard.SCARD_S_SUCCESS, f"no pcscd: {scard.SCardGetErrorMessage(rv)}"
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
                    pytest.fail(f"waiting for {name}: {scard.SCardGetErrorMessage(rv)}")
                if time.monotonic() >= deadline:
                    pytest.fail(f"{name}: pcscd did not report the card {'in' if present else 'out'} within {timeout} s")
        finally:
            scard.SCardReleaseContext(context)

    def event_count(self, slot: int) -> int:
        """Returns:
            How many insertions and removals pcscd counted in slot `slot` so far.
        """
        rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert rv == scard.SCARD_S_SUCCESS
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


def _check_installed() -> None:
    missing = []
    if not (shutil.which("pcscd") or Path("/usr/sbin/pcscd").exists()):
        missing.append("pcscd")
    if not VPCD_DRIVER.exists() or not VPCD_CONF.exists():
        missing.append(f"the vpcd driver ({VPCD_DRIVER}, {VPCD_CONF})")
    if missing:
        pytest.fail(f"the PC/SC tests need {', '.join(missing)}: {SETUP_HINT}")


def _lock(config: pytest.Config) -> int:
    handle = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if not told:
            capture = config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                print(f"\nwaiting for another test run's PC/SC tests to end ({LOCK_FILE})", file=sys.stderr)
            told = True
        if time.monotonic() > deadline:
            os.close(handle)
            pytest.fail(f"another test run kept {LOCK_FILE} locked for {LOCK_WAIT_SECONDS} s")
        time.sleep(0.2)  # another process holds the lock: nothing here to wait on but time


def _running_pcscd() -> tuple[int, str] | None:
    try:
        pid = int(PCSCD_PID_FILE.read_text(errors="replace").split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError, IndexError):
        return None
    return pid, cmdline


def _clear_the_way() -> None:
    """Make sure no other pcscd owns /run/pcscd; one left behind by a crashed run of these tests is ended."""
    running = _running_pcscd()
    if running is not None:
        pid, cmdline = running
        if MARKER not in cmdline:
            pytest.fail(f"another pcscd (pid {pid}: {cmdline.strip()}) is running; the PC/SC tests start their own "
                        "with the vpcd driver: stop it first (systemctl stop pcscd.socket pcscd.service, or kill it)")
        # A pcscd these tests started in an earlier run that crashed: end it and wait for it to go.
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
            pytest.fail(f"something (a systemd pcscd.socket?) listens on {PCSCD_SOCKET}; stop it first "
                        "(systemctl stop pcscd.socket pcscd.service)")
        finally:
            probe.close()


@pytest.fixture(scope="session")
def pcscd_session(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[PcscDaemon]:
    _check_installed()
    lock = _lock(pytestconfig)
    daemon = PcscDaemon(tmp_path_factory.mktemp(MARKER))
    try:
        _clear_the_way()
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
        daemon.tidy()
        os.close(lock)


@pytest.fixture
def pcscd(pcscd_session: PcscDaemon) -> PcscDaemon:
    """The private pcscd, running (started again when an earlier test left it stopped)."""
    pcscd_session.start()
    return pcscd_session


@pytest.fixture(scope="session")
def profiles() -> dict[str, CardProfile]:
    return load_profiles(CONFIG_DIR / "cards")


@pytest.fixture(scope="session")
def master_key(profiles: dict[str, CardProfile]) -> bytes:
    key = psam_master_key(profiles)
    assert key is not None
    return key


@pytest.fixture
def card_of(profiles: dict[str, CardProfile], master_key: bytes) -> Callable[[str], VirtualCard]:
    """A fresh virtual card personalised from a demo profile."""
    return lambda name: VirtualCard.from_profile(profiles[name], master_key)


@pytest.fixture(scope="session")
def psam_slot_session(pcscd_session: PcscDaemon, profiles: dict[str, CardProfile]) -> Iterator[CardSlot]:
    slot = CardSlot(pcscd_session, 1)
    slot.server.insert(VirtualPsam.from_profile(profiles["psam-test"]))
    yield slot
    slot.close()


@pytest.fixture
def psam_slot(pcscd: PcscDaemon, psam_slot_session: CardSlot) -> CardSlot:
    """Slot 1 with the virtual test PSAM in it (put back if a test took it out), reported present."""
    if not psam_slot_session.server.inserted:
        psam_slot_session.server.insert()
    pcscd.wait_card(1, present=True)
    return psam_slot_session


@pytest.fixture
def guardian_slot(pcscd: PcscDaemon) -> Iterator[CardSlot]:
    """Slot 0, empty in pcscd's eyes at the start of the test."""
    pcscd.wait_card(0, present=False)
    slot = CardSlot(pcscd, 0)
    yield slot
    slot.close()


@pytest.fixture
def guardian_reader(pcscd: PcscDaemon) -> PcscReader:
    return PcscReader(pcscd.reader(0), exclude_pattern=pcscd.reader(1))


@pytest.fixture
def psam_reader(pcscd: PcscDaemon) -> PcscReader:
    return PcscReader(pcscd.reader(1), exclusive=False)


@pytest.fixture
def service(guardian_slot: CardSlot, psam_slot: CardSlot, guardian_reader: PcscReader,
            psam_reader: PcscReader) -> Iterator[ReaderCardService]:
    """The kiosk's card service over PC/SC: slot 0 for the guardian's card, the PSAM in slot 1."""
    service = ReaderCardService(guardian_reader, psam_key_holder_factory(psam_reader))
    yield service
    service.release()
