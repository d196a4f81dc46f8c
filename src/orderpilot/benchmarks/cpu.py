"""Where a benchmark's CPU went: per process group, per order, and the machine's cores in use.

The benchmarks run the hub, its workers, the simulators, PostgreSQL and the load generator on
one machine. When a speed target is missed, the first question is whether the machine had CPU
left: these figures answer it from the kernel's own accounting (``/proc/stat`` for the
machine, ``/proc/PID/stat`` fields 14-17, utime, stime, cutime and cstime, for each process;
see proc(5),
https://man7.org/linux/man-pages/man5/proc.5.html). A process's figure covers all its
threads. Linux only; elsewhere :func:`measure` yields an empty report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROC = Path("/proc")
# The groups a benchmark's processes fall into, by what they were started as.
GROUPS = ("serve", "workers", "simulators", "postgresql", "load_generator")


def _ticks_per_s() -> int:
    return int(os.sysconf("SC_CLK_TCK"))


def machine_busy_ticks() -> int:
    """Busy clock ticks of all cores since boot: the first line of /proc/stat, everything
    but idle and iowait."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)


def _process(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, command name, CPU ticks), or None if it has gone. The ticks are the
    process's own (utime + stime) and those of its children that ended and were waited for
    (cutime + cstime): PostgreSQL's backends for connections that closed land in the
    postmaster's."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2:].split()
    return int(rest[1]), name, sum(int(v) for v in rest[11:15])


def _cmdline(pid: int) -> list[str]:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def group_of(pid: int, name: str, me: int, mine: set[int]) -> str | None:
    """Which group a process counts in: this process is the load generator; its descendants
    by their `orderpilot` command; the PostgreSQL server's processes by their name."""
    if pid == me:
        return "load_generator"
    if pid in mine:
        args = _cmdline(pid)
        if "orderpilot.benchmarks.floor_app" in args:  # bench floor's server stands for serve
            return "serve"
        if "orderpilot" in args:
            command = args[args.index("orderpilot") + 1:args.index("orderpilot") + 2]
            return {"serve": "serve", "worker": "workers", "sim": "simulators"}.get(
                command[0] if command else "", "load_generator")
        return "load_generator"
    if name in ("postgres", "postmaster"):
        return "postgresql"
    return None


def snapshot() -> dict[int, tuple[str, int]]:
    """Every process that counts in a group now: pid -> (group, CPU ticks so far)."""
    me = os.getpid()
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (info := _process(int(entry.name))) is not None:
            table[int(entry.name)] = info
    children: dict[int, list[int]] = {}
    for pid, (parent, _name, _ticks) in table.items():
        children.setdefault(parent, []).append(pid)
    mine, todo = set(), [me]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in mine:
                mine.add(child)
                todo.append(child)
    counted = {}
    for pid, (_parent, name, ticks) in table.items():
        if (group := group_of(pid, name, me, mine)) is not None:
            counted[pid] = (group, ticks)
    return counted


class Report:
    """Filled in when the measured block ends; ``as_json(orders)`` gives the figures."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cores = os.cpu_count() or 1
        self.machine_busy_s = 0.0
        self.group_s: dict[str, float] = {}

    def as_json(self, orders: int) -> dict[str, Any]:
        if not self.seconds or orders <= 0:
            return {}
        per_order = {g: round(self.group_s.get(g, 0.0) * 1000 / orders, 2) for g in GROUPS}
        others = self.machine_busy_s - sum(self.group_s.values())
        per_order["other"] = round(max(others, 0.0) * 1000 / orders, 2)
        hub = sum(per_order[g] for g in ("serve", "workers", "postgresql"))
        return {"cores": self.cores,
                "machine_busy_cores": round(self.machine_busy_s / self.seconds, 2),
                "ms_per_order": per_order,
                "hub_ms_per_order": round(hub, 2),
                # The rate at which the hub's processes would fill every core of the machine
                # if nothing else ran on it, and at which `serve` alone would fill one core.
                "hub_orders_per_s_if_alone_on_all_cores": round(self.cores * 1000 / hub, 1)
                if hub else None,
                "serve_orders_per_s_at_one_core": round(1000 / per_order["serve"], 1)
                if per_order["serve"] else None}


@contextmanager
def measure() -> Iterator[Report]:
    """CPU used during the block by each group and by the whole machine. A process that
    starts inside the block counts from zero; one that ends inside it is not counted."""
    report = Report()
    if not (PROC / "stat").exists():
        yield report
        return
    before, busy0, t0 = snapshot(), machine_busy_ticks(), time.perf_counter()
    yield report
    after, busy1 = snapshot(), machine_busy_ticks()
    report.seconds = time.perf_counter() - t0
    tick = _ticks_per_s()
    report.machine_busy_s = (busy1 - busy0) / tick
    for pid, (group, ticks) in after.items():
        used = ticks - before.get(pid, (group, 0))[1]
        report.group_s[group] = report.group_s.get(group, 0.0) + used / tick
