"""Provides CPU accounting of other processes from /proc (Linux): a process tree's user + system time."""
from __future__ import annotations

# /proc/<pid>/stat fields 14-17 (1-based): utime, stime, cutime, cstime in clock ticks. A tree's CPU is
# its root's utime + stime + cutime + cstime (cutime: the children it reaped, e.g. PostgreSQL backends
# that ended) plus the utime + stime of every live descendant. Between two readings the difference is
# the tree's CPU in between, whatever processes started or ended meanwhile (as long as their parent
# reaps them, which the postmaster and uvicorn's supervisor do).

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int, int, int, int] | None:
    """(ppid, utime, stime, cutime, cstime) of a live process, None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[1]), int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14])


def _processes() -> dict[int, tuple[int, int, int, int, int]]:
    stats: dict[int, tuple[int, int, int, int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    return stats


def _descendants(root: int, stats: dict[int, tuple[int, int, int, int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, stat in stats.items():
        children.setdefault(stat[0], []).append(pid)
    found, pending = [], list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of `root` and every descendant (live, or ended and reaped) so far."""
    stats = _processes()
    if root not in stats:
        return 0.0
    _, utime, stime, cutime, cstime = stats[root]
    ticks = utime + stime + cutime + cstime + sum(stats[pid][1] + stats[pid][2] for pid in _descendants(root, stats))
    return ticks / TICK


def tree_main_threads_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of the main threads of `root` and its live descendants (for uvicorn: the event
    loops, where every request is parsed, routed and answered; the rest of a worker's CPU is its thread pool's)."""
    stats = _processes()
    total = 0
    for pid in [root, *_descendants(root, stats)] if root in stats else []:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = text[text.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def postmaster_pid(data_dir: Path) -> int:
    """The PostgreSQL server's main process (the first line of postmaster.pid)."""
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values
    busy = user + nice + system + irq + softirq + steal
    return busy / TICK, (busy + idle + iowait) / TICK
