"""Provides the live systemd proof of `python -m bench.deploy --systemd`: the installed kiosk under a real systemd.

This machine's PID 1 is not systemd, so the proof boots one: a copy of bench/deploy.py's debootstrap
base (Debian 12) under `systemd-nspawn --boot --private-network` (its pcscd, vpcd and registry port
never meet the host's test ports 35963/35964, /run/pcscd or 8080). deploy/install.sh runs inside the
booted container (fresh: none of its packages there yet; apt reaches the mirror through the host's
network, everything else is the container's), then the kiosk with the registry service on
127.0.0.1:8080 and vpcd's virtual reader through pcscd, and systemd is asked what happened:

- `systemctl start ecard-kiosk` returns once the kiosk said READY=1 (Type=notify: its welcome
  screen drawn); grim takes the screen as the kiosk user;
- a frozen kiosk (`kill -STOP` its python) is killed by systemd's watchdog and started again;
- pcscd restarted, pcscd gone (the reader with it), the registry service stopped: the kiosk's
  MainPID stays, its STATUS= (the step it shows, ecard_kiosk/watchdog.py) goes out of service
  where it should and back to the welcome screen by itself;
- ecard-registry.service: READY=1 once it listens, and a frozen service restarted by its watchdog;
- `systemd-analyze security` of both units, running, and whether the kiosk user reaches pcscd.

The one change to the installed units is a drop-in for what a container lacks: no screen (cage
headless, pixman) and no VT (no TTYPath= stdin). Everything lives under /var/tmp/ecard-kiosk-bench;
the container is powered off at the end (also after an error).
"""
from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable, TypeVar

MACHINE = "ecard-bench"
KIOSK = "ecard-kiosk.service"
REGISTRY = "ecard-registry.service"
WELCOME = "welcome"
BENCH_PACKAGES = ("vsmartcard-vpcd", "grim", "procps")
"""Not the kiosk's: vpcd (pcscd's virtual reader) stands in for the reader, grim takes the screen, pgrep."""
CONTAINER_DROP_IN = """\
# bench/nspawn.py: a container has no screen and no VT. cage draws headless (pixman, no seat
# needed), and the unit takes no tty1 as its stdin. Everything else is deploy/ecard-kiosk.service.
[Service]
Environment=WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman
StandardInput=null
TTYReset=no
TTYVHangup=no
TTYVTDisallocate=no
"""
SITE_SETTINGS = """\
# bench/nspawn.py: the site's settings of this kiosk (install.sh's file, edited as a site would).
kiosk_id = "KIOSK-01"
data_dir = "/var/lib/ecard-kiosk"
reader = "pcsc"
demo_data = false
tester_panel = false
voice_prompts = "off"
activation_url_base = "https://ecard.example.gov.cn/activate"
registry = "http://127.0.0.1:8080"
"""
REGISTRY_AS_ITS_UNIT = ["-p", "DynamicUser=yes", "-p", "StateDirectory=ecard-registry",
                        "-p", "WorkingDirectory=/var/lib/ecard-registry",
                        "-p", "EnvironmentFile=-/etc/ecard-registry/registry.env",
                        "-p", "LoadCredential=database_url:/etc/ecard-registry/credentials/database_url",
                        "-E", "ECARD_REGISTRY_DATA_DIR=/var/lib/ecard-registry"]
"""`systemd-run` properties that make a command see what ecard-registry.service sees (its user, data, settings)."""

T = TypeVar("T")


class Failed(Exception):
    """A proof that did not hold; its message says what was seen."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.2) -> tuple[T, float]:
    """Poll `probe` until it returns something; (that, seconds waited). Failed after `timeout`."""
    started = time.monotonic()
    while True:
        value = probe()
        if value is not None:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise Failed(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


class Container:
    """A booted Debian 12 under systemd-nspawn: `boot`, `run` commands in it, `terminate`."""

    def __init__(self, root: Path, log: Path) -> None:
        self.root = root
        self.log = log
        self.process: subprocess.Popen | None = None
        self.leader = 0

    def boot(self, timeout: float = 180) -> tuple[float, str]:
        """Boot it; (seconds until `systemctl is-system-running --wait` answered, what it answered)."""
        started = time.monotonic()
        with self.log.open("wb") as log:
            # --keep-unit --register=no: there is no systemd (no machined, no bus) on this host to ask for a scope.
            self.process = subprocess.Popen(
                ["systemd-nspawn", "--boot", "--private-network", "--keep-unit", "--register=no", "--quiet",
                 "-D", str(self.root), "--machine", MACHINE],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def leader() -> int | None:
            if self.process.poll() is not None:
                raise Failed(f"systemd-nspawn ended ({self.process.returncode}): {self.log_tail()}")
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            pids = children.read_text().split() if children.exists() else []
            # nspawn forks helpers too: the leader is the child that became systemd.
            for pid in pids:
                try:
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                        return int(pid)
                except OSError:
                    continue
            return None

        self.leader, _ = wait_for("the container's PID 1", leader, 30, 0.05)
        wait_for("the container's systemd bus", lambda: True if self.run(
            "test", "-S", "/run/systemd/private", check=False).returncode == 0 else None, 60, 0.1)
        state = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=timeout).stdout.strip()
        return time.monotonic() - started, state

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]

    def run(self, *argv: str, check: bool = True, timeout: float = 120, host_network: bool = False,
            input: str | None = None) -> subprocess.CompletedProcess:
        """`argv` inside the container (its mounts, PIDs, IPC, and its network unless `host_network`), as root."""
        namespaces = ["--mount", "--uts", "--ipc", "--pid", "--cgroup", *([] if host_network else ["--net"])]
        command = ["nsenter", "--target", str(self.leader), *namespaces, "--", "/usr/bin/env", "-i",
                   "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", *argv]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise Failed(f"{' '.join(argv)} ({result.returncode}): {(result.stderr or result.stdout).strip()[-2000:]}")
        return result

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        out = self.run("systemctl", "show", unit, *(f"--property={name}" for name in properties)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal_since(self, since: float, *args: str) -> list[tuple[float, str]]:
        """Journal lines since `since` (epoch seconds) with journalctl `args`: (epoch, message)."""
        out = self.run("journalctl", "--no-pager", "-o", "short-unix", f"--since=@{since:.3f}", *args,
                       check=False).stdout
        lines = []
        for line in out.splitlines():
            stamp, _, message = line.partition(" ")
            try:
                lines.append((float(stamp), message))
            except ValueError:
                continue
        return lines

    def terminate(self) -> None:
        """Power it off (nspawn passes SIGTERM to the container's systemd as a shutdown); killed after 60 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class LiveProof:
    """The proofs, in order, against one booted container with the kiosk installed."""

    def __init__(self, container: Container, shots: Path) -> None:
        self.c = container
        self.shots = shots
        self.results: list[tuple[str, bool, str]] = []

    # ------------------------------------------------------------------ what systemd says
    def kiosk(self) -> dict[str, str]:
        return self.c.show(KIOSK, "ActiveState", "SubState", "MainPID", "StatusText", "NRestarts", "Result")

    def kiosk_python(self) -> int:
        """The kiosk's own process (cage -> foot -> python), as the kiosk user."""
        out = self.c.run("pgrep", "-u", "ecard-kiosk", "-f", "^/opt/ecard-kiosk/bin/python", check=False).stdout.split()
        if len(out) != 1:
            raise Failed(f"the kiosk's python: pgrep found {out or 'nothing'}")
        return int(out[0])

    def at_welcome(self, main_pid: str | None = None) -> Callable[[], dict[str, str] | None]:
        """A probe: the kiosk active, showing its welcome screen (with `main_pid`, that MainPID; else any new one)."""
        def probe() -> dict[str, str] | None:
            state = self.kiosk()
            if state["ActiveState"] == "active" and state["StatusText"] == WELCOME and (
                    main_pid is None or state["MainPID"] == main_pid):
                return state
            return None
        return probe

    def screenshot(self, name: str) -> Path | None:
        """What cage shows now (grim as the kiosk user, with cage's runtime folder and Wayland display)."""
        main = self.kiosk()["MainPID"]
        environ = self.c.run("cat", f"/proc/{main}/environ", check=False).stdout.split("\0")
        runtime = next((item.split("=", 1)[1] for item in environ if item.startswith("XDG_RUNTIME_DIR=")), None)
        if runtime is None:
            return None
        sockets = self.c.run("sh", "-c", f"ls {runtime} | grep -E '^wayland-[0-9]+$'", check=False).stdout.split()
        if not sockets:
            return None
        result = subprocess.run(
            ["nsenter", "--target", str(self.c.leader), "--mount", "--pid", "--ipc", "--net", "--",
             "/usr/sbin/runuser", "-u", "ecard-kiosk", "--", "/usr/bin/env", "-i", f"XDG_RUNTIME_DIR={runtime}",
             f"WAYLAND_DISPLAY={sockets[0]}", "/usr/bin/grim", "-"], capture_output=True, timeout=30)
        if result.returncode != 0:
            raise Failed(f"grim: {result.stderr.decode(errors='replace').strip()}")
        path = self.shots / f"{name}.png"
        path.write_bytes(result.stdout)
        return path

    def record(self, name: str, proof: Callable[[], str]) -> None:
        try:
            figures = proof()
        except (Failed, subprocess.TimeoutExpired) as exc:
            self.results.append((name, False, str(exc)))
            print(f"systemd: {name}: FAILED: {exc}", flush=True)
            return
        self.results.append((name, True, figures))
        print(f"systemd: {name}: {figures}", flush=True)

    # ------------------------------------------------------------------ the proofs
    def start_to_welcome(self, runs: int = 3) -> str:
        seconds = []
        for run in range(runs):
            self.c.run("systemctl", "stop", KIOSK, timeout=120)
            started = time.monotonic()
            # Type=notify: start returns when the kiosk said READY=1, once its welcome screen is drawn.
            self.c.run("systemctl", "start", KIOSK, timeout=120)
            seconds.append(time.monotonic() - started)
            state = self.kiosk()
            if state["ActiveState"] != "active":
                raise Failed(f"after start: {state}")
        _, settled = wait_for("the welcome screen", self.at_welcome(), 30)
        shot = self.screenshot("welcome")
        return (f"`systemctl start` -> READY=1 (welcome drawn) {min(seconds):.1f}-{max(seconds):.1f} s over {runs} "
                f"runs ({', '.join(f'{value:.2f}' for value in seconds)}); STATUS={self.kiosk()['StatusText']}"
                f"{'' if shot is None else f'; screenshot {shot}'}")

    def pcscd_for_the_kiosk_user(self) -> str:
        ldd = self.c.run("ldd", "/usr/sbin/pcscd").stdout
        version = self.c.run("dpkg-query", "-W", "-f=${Version}", "pcscd").stdout
        readers = self.c.run("runuser", "-u", "ecard-kiosk", "--", "/opt/ecard-kiosk/bin/python", "-c",
                             "from smartcard.System import readers; print([str(r) for r in readers()])",
                             check=False)
        if readers.returncode != 0:
            raise Failed(f"the kiosk user cannot list pcscd's readers: {readers.stderr.strip()[-500:]}")
        polkit = "linked with libpolkit" if "libpolkit" in ldd else "NOT linked with polkit (the rule is inert here)"
        return (f"pcscd {version} {polkit}; the kiosk user lists {readers.stdout.strip()} "
                f"and the running kiosk (reader = \"pcsc\") shows STATUS={self.kiosk()['StatusText']}")

    def watchdog_restarts_a_frozen_kiosk(self) -> str:
        before = self.kiosk()
        python = self.kiosk_python()
        since = time.time()
        self.c.run("kill", "-STOP", str(python))
        started = time.monotonic()

        def restarted() -> dict[str, str] | None:
            state = self.kiosk()
            if state["MainPID"] not in ("0", before["MainPID"]) and state["ActiveState"] == "active" \
                    and state["StatusText"] == WELCOME:
                return state
            return None

        after, seconds = wait_for("the frozen kiosk restarted", restarted, 150, 0.5)
        lines = self.c.journal_since(since, "-u", KIOSK, "--grep", "[Ww]atchdog")
        if not lines:
            raise Failed("restarted, but the journal has no watchdog line")
        fired_at = lines[0][0] - since
        new_python = self.kiosk_python()
        return (f"python {python} stopped; journal +{fired_at:.1f} s: {lines[0][1].split(': ', 1)[-1]!r}; "
                f"back at welcome after {seconds:.1f} s; MainPID {before['MainPID']} -> {after['MainPID']} "
                f"(python {python} -> {new_python}), NRestarts {before['NRestarts']} -> {after['NRestarts']}")

    def settle(self, main: str, since: float, stable: float = 3.0, timeout: float = 90) -> tuple[list[str], float]:
        """Watch STATUS= until the kiosk (still `main`) has shown welcome for `stable` s on end.

        (the statuses it went through, seconds from `since` (monotonic) to its last arrival at welcome).
        """
        seen: list[str] = []
        arrived = None
        while time.monotonic() - since < timeout:
            state = self.kiosk()
            if state["MainPID"] != main:
                raise Failed(f"the kiosk was restarted (MainPID {main} -> {state['MainPID']}), statuses {seen}")
            now = time.monotonic()
            if not seen or seen[-1] != state["StatusText"]:
                seen.append(state["StatusText"])
                arrived = now if state["StatusText"] == WELCOME else None
            if arrived is not None and now - arrived >= stable:
                return seen, arrived - since
            time.sleep(0.1)
        raise Failed(f"not settled at welcome within {timeout:.0f} s: statuses {seen}")

    def pcscd_restart(self) -> str:
        main = self.kiosk()["MainPID"]
        pcscd = self.c.show("pcscd.service", "MainPID")["MainPID"]
        since = time.time()
        started = time.monotonic()
        self.c.run("systemctl", "restart", "pcscd.service")
        # The kiosk's reader watcher notices pcscd going (its journal line), the kiosk may go out of
        # service meanwhile, then it is back at welcome, and stays there.
        gone, _ = wait_for("the kiosk noticing pcscd's restart", lambda: [
            (at, message) for at, message in self.c.journal_since(since, "-t", "ecard-kiosk")
            if "PC/SC" in message] or None, 30)
        seen, back = self.settle(main, started, timeout=120)
        new_pcscd = self.c.show("pcscd.service", "MainPID")["MainPID"]
        noticed = gone[0][1].split(": ", 1)[-1]
        return (f"pcscd {pcscd} -> {new_pcscd}; the kiosk noticed at +{gone[0][0] - since:.1f} s ({noticed!r}); "
                f"STATUS= went {' -> '.join(seen)}; back at welcome +{back:.1f} s (then 3 s steady); "
                f"MainPID {main} unchanged")

    def reader_gone(self) -> str:
        main = self.kiosk()["MainPID"]
        self.settle(main, time.monotonic())
        welcome_shot = self.screenshot("reader-before")
        started = time.monotonic()
        # pcscd.socket too, or the kiosk's next connection would start pcscd again.
        self.c.run("systemctl", "stop", "pcscd.socket", "pcscd.service")
        state, out_after = wait_for("out of service without pcscd", lambda: (
            lambda s: s if s["StatusText"].startswith("out_of_service") else None)(self.kiosk()), 60)
        out_after = time.monotonic() - started  # from the stop
        if state["MainPID"] != main:
            raise Failed(f"the kiosk was restarted: MainPID {main} -> {state['MainPID']}")
        shot = self.screenshot("reader-gone")
        differs = (welcome_shot is not None and shot is not None and shot.read_bytes() != welcome_shot.read_bytes())
        started = time.monotonic()
        self.c.run("systemctl", "start", "pcscd.socket")
        seen, back_after = self.settle(main, started, timeout=120)
        return (f"pcscd stopped: STATUS={state['StatusText']!r} after {out_after:.1f} s, MainPID {main} unchanged, "
                f"the screen {'changed' if differs else 'DID NOT change'} ({shot}); pcscd.socket started: "
                f"{' -> '.join(seen)} after {back_after:.1f} s (then 3 s steady), MainPID {main} unchanged")

    def registry_down(self) -> str:
        main = self.kiosk()["MainPID"]
        self.settle(main, time.monotonic())
        started = time.monotonic()
        self.c.run("systemctl", "stop", REGISTRY)
        state, out_after = wait_for("out of service without the registry", lambda: (
            lambda s: s if s["StatusText"].startswith("out_of_service") else None)(self.kiosk()), 60)
        out_after = time.monotonic() - started  # from the stop
        if state["MainPID"] != main:
            raise Failed(f"the kiosk was restarted: MainPID {main} -> {state['MainPID']}")
        shot = self.screenshot("registry-down")
        started = time.monotonic()
        self.c.run("systemctl", "start", REGISTRY, timeout=120)
        seen, back_after = self.settle(main, started, timeout=120)
        return (f"ecard-registry stopped: STATUS={state['StatusText']!r} after {out_after:.1f} s, MainPID {main} "
                f"unchanged{'' if shot is None else f' ({shot})'}; started again (READY): {' -> '.join(seen)} "
                f"after {back_after:.1f} s (then 3 s steady), MainPID {main} unchanged")

    def registry_ready_and_watchdog(self) -> str:
        started = time.monotonic()
        self.c.run("systemctl", "restart", REGISTRY, timeout=120)
        ready = time.monotonic() - started
        before = self.c.show(REGISTRY, "ActiveState", "MainPID", "NRestarts", "Type", "WatchdogUSec")
        if before["ActiveState"] != "active":
            raise Failed(f"after restart: {before}")
        since = time.time()
        self.c.run("kill", "-STOP", before["MainPID"])

        def restarted() -> dict[str, str] | None:
            state = self.c.show(REGISTRY, "ActiveState", "MainPID", "NRestarts")
            return state if state["ActiveState"] == "active" and state["MainPID"] not in ("0", before["MainPID"]) \
                else None

        after, seconds = wait_for("the frozen registry service restarted", restarted, 150, 0.5)
        lines = self.c.journal_since(since, "-u", REGISTRY, "--grep", "[Ww]atchdog")
        if not lines:
            raise Failed("restarted, but the journal has no watchdog line")
        return (f"Type={before['Type']}: `systemctl restart` -> READY=1 {ready:.1f} s; main {before['MainPID']} "
                f"stopped; journal +{lines[0][0] - since:.1f} s: {lines[0][1].split(': ', 1)[-1]!r}; READY again "
                f"after {seconds:.1f} s, MainPID {before['MainPID']} -> {after['MainPID']}, "
                f"NRestarts {before['NRestarts']} -> {after['NRestarts']}")

    def exposure(self) -> str:
        scores = []
        for unit in (KIOSK, REGISTRY):
            out = self.c.run("systemd-analyze", "security", "--no-pager", unit).stdout
            score = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\S+)", out)
            if score is None:
                raise Failed(f"systemd-analyze security {unit}: {out[-500:]}")
            scores.append(f"{unit} {score.group(1)} {score.group(2)}")
        return "; ".join(scores)

    def run_all(self) -> None:
        self.record("start -> welcome", self.start_to_welcome)
        self.record("pcscd and polkit", self.pcscd_for_the_kiosk_user)
        self.record("frozen kiosk", self.watchdog_restarts_a_frozen_kiosk)
        self.record("pcscd restarted", self.pcscd_restart)
        self.record("reader gone (pcscd stopped)", self.reader_gone)
        self.record("registry service down", self.registry_down)
        self.record("ecard-registry READY and watchdog", self.registry_ready_and_watchdog)
        self.record("systemd-analyze security (running units)", self.exposure)


def prepare(container: Container, wheel_name: str) -> tuple[float, float]:
    """deploy/install.sh --registry inside the booted container, fresh and again; the site set up. (fresh, rerun) s."""
    timings = []
    for _ in range(2):
        started = time.monotonic()
        result = container.run("/bin/bash", "/root/ecard-kiosk/deploy/install.sh", "--registry",
                               "--wheel", f"/root/wheels/{wheel_name}", "--wheels", "/root/wheels",
                               host_network=True, timeout=1800, check=False)
        timings.append(time.monotonic() - started)
        print(result.stdout.strip(), flush=True)
        if result.returncode != 0:
            raise Failed(f"install.sh ({result.returncode}): {result.stderr.strip()[-3000:]}")
    container.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *BENCH_PACKAGES,
                  host_network=True, timeout=900)
    root = container.root
    # systemd-run --wait talks over D-Bus: dbus, just installed, does not run yet (nothing of the kiosk's needs it).
    active = container.run("systemctl", "is-active", "dbus.service", "systemd-logind.service", "pcscd.socket",
                           "polkit.service", check=False).stdout.split()
    print(f"after install.sh: dbus {active[0]}, logind {active[1]}, pcscd.socket {active[2]}, polkit {active[3]}",
          flush=True)
    container.run("systemctl", "start", "dbus.socket", "dbus.service")
    # The registry service's schema, then this kiosk's credential, as the service's own user and data would have them.
    made = container.run("systemd-run", "--wait", "--pipe", "--quiet", *REGISTRY_AS_ITS_UNIT, "/bin/sh", "-c",
                         "/opt/ecard-kiosk/bin/ecard-registry upgrade >&2 && "
                         "/opt/ecard-kiosk/bin/ecard-registry kiosk add KIOSK-01", timeout=300)
    credential = made.stdout.strip().splitlines()[-1]
    (root / "etc/ecard-kiosk/credentials/registry_credential").write_text(credential + "\n", encoding="utf-8")
    (root / "etc/ecard-kiosk/kiosk.toml").write_text(SITE_SETTINGS, encoding="utf-8")
    drop_in = root / "etc/systemd/system/ecard-kiosk.service.d"
    drop_in.mkdir(parents=True, exist_ok=True)
    (drop_in / "bench-container.conf").write_text(CONTAINER_DROP_IN, encoding="utf-8")
    container.run("systemctl", "daemon-reload")
    # pcscd starts again on the next connection, now with vpcd's reader (installed after it).
    container.run("systemctl", "stop", "pcscd.service")
    container.run("systemctl", "start", REGISTRY, timeout=120)
    return timings[0], timings[1]
