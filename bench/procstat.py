"""CPU time and resident memory of processes, read from /proc (Linux only).

CPU is utime + stime from /proc/<pid>/stat, in clock ticks, turned into
seconds; a process that did not exist at the first reading counts from
zero. Nothing here is estimated: what a process did not spend is not
counted, and a process that died between two readings is reported as gone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of `pid` in seconds; None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid: int) -> int | None:
    """Resident set size of `pid`; None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/statm").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(raw.split()[1]) * PAGE_SIZE


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def machine_cpu_seconds() -> float:
    """CPU seconds spent by every process on the machine (user + nice + system + irq)."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds of named groups of processes between `start()` and `stop()`.

    Groups are re-resolved at `stop()` through their callables, so processes
    that appeared during the run (a new PostgreSQL backend) are counted too.
    """

    groups: Mapping[str, Iterable[int]]
    _before: dict[int, float] = field(default_factory=dict)
    _machine_before: float = 0.0

    def start(self) -> None:
        self._before = {}
        for pids in self.groups.values():
            for pid in pids:
                seconds = cpu_seconds(pid)
                if seconds is not None:
                    self._before[pid] = seconds
        self._machine_before = machine_cpu_seconds()

    def stop(self, groups: Mapping[str, Iterable[int]] | None = None) -> dict[str, float]:
        """CPU seconds per group, plus `machine` (every process on the machine)."""
        spent: dict[str, float] = {}
        for name, pids in (groups or self.groups).items():
            total = 0.0
            for pid in set(pids):
                now = cpu_seconds(pid)
                if now is not None:
                    total += now - self._before.get(pid, 0.0)
            spent[name] = round(total, 3)
        spent["machine"] = round(machine_cpu_seconds() - self._machine_before, 3)
        return spent
