"""Provides the deployment bench: the units' exposure, cage start to welcome drawn, install.sh on a fresh Debian chroot.

    .venv/bin/python -m bench.deploy                 exposure scores, cage start -> welcome (3 runs)
    .venv/bin/python -m bench.deploy --chroot        ... and deploy/install.sh fresh, then again, in a
                                                     debootstrap chroot (minutes; root, a Debian mirror;
                                                     the wheels are built here and handed in: --wheels)
    .venv/bin/python -m bench.deploy --systemd       ... and the live proof under a real systemd: the base
                                                     booted with systemd-nspawn, install.sh inside, then
                                                     start, watchdog, pcscd, reader, registry (bench/nspawn.py)

Runs as root (the kiosk runs as the unprivileged test user; debootstrap and chroot need root).
The debootstrap base is kept in /var/tmp/ecard-kiosk-bench/base (made once, a few minutes); each
run copies it, so install.sh always meets a fresh Debian 12.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

DEPLOY = ROOT / "deploy"
BENCH_DIR = Path("/var/tmp/ecard-kiosk-bench")
MIRROR = "http://deb.debian.org/debian"


def exposure(unit: Path) -> float:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    if score is None:
        raise SystemExit(f"systemd-analyze security {unit.name}: {result.stderr.strip()}")
    return float(score.group(1))


def cage_to_welcome(runs: int) -> list[float]:
    """Seconds from starting cage (foot, tmux, the installed kiosk) to the welcome screen drawn, per run."""
    from tests.deploy.appliance import build_appliance
    from tests.deploy.screen import KioskScreen

    base = Path(tempfile.mkdtemp(prefix="ecard-kiosk-bench-"))
    base.chmod(0o755)
    try:
        appliance = build_appliance(base)
        print("appliance: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in appliance.timings.items()))
        seconds = []
        for run in range(runs):
            with KioskScreen(appliance, base / f"run-{run}") as screen:
                _, drawn_at = screen.drawn("请插入您的社保卡，或按回车开始")
                seconds.append(drawn_at - screen.started)
        return seconds
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _base_system() -> Path:
    base = BENCH_DIR / "base"
    if not (base / "etc" / "debian_version").exists():
        partial = BENCH_DIR / "base.partial"
        shutil.rmtree(partial, ignore_errors=True)
        print(f"debootstrap bookworm into {partial} (once)...", flush=True)
        subprocess.run(["debootstrap", "--variant=minbase", "--include=systemd-sysv,ca-certificates", "bookworm",
                        str(partial), MIRROR], check=True, stdout=subprocess.DEVNULL)
        partial.rename(base)
    return base


def _fresh_copy(name: str) -> Path:
    """A copy of the debootstrap base under BENCH_DIR/`name` (the previous one removed)."""
    base = _base_system()
    root = BENCH_DIR / name
    _unmount(root)
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["cp", "-a", str(base), str(root)], check=True)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    return root


def _hand_in(root: Path) -> Path:
    """The checkout into `root`/root/ecard-kiosk, the wheels (the project's, its dependencies', pyscard's) into
    `root`/root/wheels; the project's wheel."""
    checkout = root / "root/ecard-kiosk"
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listing.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    # The Python side goes in as wheels (install.sh --wheels, its offline way): this machine reaches
    # PyPI only through its own proxy, whose trust the fresh Debian does not have.
    wheels = root / "root/wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "wheel", "--quiet", "--wheel-dir",
           str(wheels)]
    subprocess.run([*pip, "--no-deps", str(checkout)], check=True, cwd=checkout.parent)
    (wheel,) = wheels.glob("child_ecard_kiosk-*.whl")
    subprocess.run([*pip, f"{wheel}[pcsc]"], check=True, cwd=checkout.parent)
    return wheel


def install_in_chroot() -> tuple[float, float]:
    """deploy/install.sh on a copy of the debootstrap base, then once more: (fresh seconds, rerun seconds)."""
    if shutil.which("debootstrap") is None:
        raise SystemExit("--chroot needs debootstrap: apt-get install debootstrap")
    root = _fresh_copy("run")
    # A chroot starts no services (policy-rc.d); name resolution is the host's.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    wheel = _hand_in(root)
    for mount, source in (("proc", "proc"), ("sys", "sysfs"), ("dev", None), ("dev/pts", None)):
        target = root / mount
        if source:
            subprocess.run(["mount", "-t", source, source, str(target)], check=True)
        else:
            subprocess.run(["mount", "--bind", f"/{mount}", str(target)], check=True)
    try:
        timings = []
        for _ in range(2):
            started = time.monotonic()
            result = subprocess.run(["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                     "LANG=C.UTF-8", "/bin/bash", "/root/ecard-kiosk/deploy/install.sh",
                                     "--wheel", f"/root/wheels/{wheel.name}", "--wheels", "/root/wheels"],
                                    capture_output=True, text=True, timeout=1800)
            timings.append(time.monotonic() - started)
            print(result.stdout.strip())
            if result.returncode != 0:
                raise SystemExit(f"install.sh failed ({result.returncode}): {result.stderr[-3000:]}")
        check = subprocess.run(["chroot", str(root), "/bin/sh", "-c",
                                "systemctl is-enabled ecard-kiosk.service && id ecard-kiosk && "
                                "/opt/ecard-kiosk/bin/python -c 'import sys; print(sys.base_prefix)' && "
                                "/opt/ecard-kiosk/bin/ecard-kiosk --help | head -1 && "
                                "ls /etc/ecard-kiosk /etc/polkit-1/rules.d /etc/pam.d/ecard-kiosk"],
                               capture_output=True, text=True, timeout=120)
        print(check.stdout.strip())
        if check.returncode != 0:
            raise SystemExit(f"the installed chroot is not a kiosk: {check.stderr[-2000:]}")
        return timings[0], timings[1]
    finally:
        _unmount(root)


def _unmount(root: Path) -> None:
    for mount in ("dev/pts", "dev", "sys", "proc"):
        subprocess.run(["umount", "--lazy", str(root / mount)], capture_output=True)


def live_systemd(keep: bool = False) -> bool:
    """bench/nspawn.py's proofs in a booted copy of the base; True when every one held."""
    from bench import nspawn

    for tool in ("debootstrap", "systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            raise SystemExit(f"--systemd needs {tool}: apt-get install debootstrap systemd-container util-linux")
    root = _fresh_copy("nspawn")
    wheel = _hand_in(root)
    # The packages apt fetched last time (the container's install still installs every one of them).
    debs = BENCH_DIR / "debs"
    for deb in debs.glob("*.deb"):
        shutil.copy2(deb, root / "var/cache/apt/archives" / deb.name)
    shots = BENCH_DIR / "shots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    container = nspawn.Container(root, BENCH_DIR / "nspawn.log")
    try:
        try:
            seconds, state = container.boot()
        except nspawn.Failed as exc:
            print(f"systemd: blocked: the container does not boot: {exc}")
            return False
        print(f"systemd: booted {nspawn.MACHINE} (systemd-nspawn --boot --private-network) in {seconds:.1f} s: "
              f"{state}", flush=True)
        try:
            fresh, rerun = nspawn.prepare(container, wheel.name)
        except (nspawn.Failed, subprocess.TimeoutExpired) as exc:
            print(f"systemd: blocked: install in the booted container: {exc}")
            return False
        print(f"systemd: install.sh --registry in the booted Debian 12: {fresh:.0f} s fresh; run again: {rerun:.1f} s",
              flush=True)
        debs.mkdir(exist_ok=True)
        for deb in (root / "var/cache/apt/archives").glob("*.deb"):
            if not (debs / deb.name).exists():
                shutil.copy2(deb, debs / deb.name)
        proof = nspawn.LiveProof(container, shots)
        proof.run_all()
        failed = [name for name, ok, _ in proof.results if not ok]
        print(f"systemd: {len(proof.results) - len(failed)} of {len(proof.results)} proofs held"
              + (f"; failed: {', '.join(failed)}" if failed else ""))
        return not failed
    finally:
        if keep and container.process is not None and container.process.poll() is None:
            print(f"systemd: container left running: nsenter -t {container.leader} -a (kill {container.process.pid} "
                  "powers it off)")
        else:
            container.terminate()
            print(f"systemd: container stopped ({container.log} has its console)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chroot", action="store_true", help="also run deploy/install.sh in a fresh Debian chroot")
    parser.add_argument("--systemd", action="store_true",
                        help="also the live proof under a real systemd (systemd-nspawn --boot; minutes)")
    parser.add_argument("--only-systemd", action="store_true", help="only the live proof (no exposure, no cage runs)")
    parser.add_argument("--keep-container", action="store_true", help="leave the container running (to look inside)")
    parser.add_argument("--runs", type=int, default=3, help="cage start -> welcome runs (default 3)")
    args = parser.parse_args(argv)
    if args.only_systemd:
        return 0 if live_systemd(args.keep_container) else 1
    for unit in sorted(DEPLOY.glob("*.service")):
        print(f"exposure {unit.name}: {exposure(unit):.1f}")
    seconds = cage_to_welcome(args.runs)
    print(f"cage start -> welcome drawn: {min(seconds):.1f}-{max(seconds):.1f} s over {len(seconds)} runs "
          f"({', '.join(f'{value:.2f}' for value in seconds)})")
    if args.chroot:
        fresh, rerun = install_in_chroot()
        print(f"install.sh on a fresh Debian 12 chroot: {fresh:.0f} s; run again: {rerun:.1f} s")
    if args.systemd and not live_systemd(args.keep_container):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
