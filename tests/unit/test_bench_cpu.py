"""The benchmarks' CPU accounting: a process's CPU lands in its group, per order."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from orderpilot.benchmarks import cpu

BUSY = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"


@pytest.mark.skipif(not cpu.PROC.joinpath("stat").exists(), reason="needs Linux /proc")
def test_a_process_that_ends_inside_the_block_is_not_counted() -> None:
    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(0.3)\n{BUSY}",
                              "orderpilot", "serve"])
    try:
        time.sleep(0.1)
        with cpu.measure() as used:
            child.wait(timeout=30)
    finally:
        child.kill()
    assert used.seconds > 0.5
    assert used.machine_busy_s > 0.4  # the machine saw its work
    assert used.group_s.get("serve", 0.0) == 0.0


# Waits for a line on stdin, burns 0.6 s of CPU, says so, then sleeps until killed.
ON_CUE = ("import sys, time\nsys.stdin.readline()\n" + BUSY
          + "\nprint('done', flush=True)\ntime.sleep(60)")


@pytest.mark.skipif(not cpu.PROC.joinpath("stat").exists(), reason="needs Linux /proc")
def test_busy_processes_land_in_their_groups() -> None:
    children = {group: subprocess.Popen(
        [sys.executable, "-c", ON_CUE, "orderpilot", command], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True) for group, command in (("serve", "serve"),
                                                                  ("workers", "worker"))}
    try:
        with cpu.measure() as used:
            for child in children.values():  # both burn inside the block, however busy
                assert child.stdin is not None
                child.stdin.write("go\n")  # the machine is (CI runs tests side by side)
                child.stdin.flush()
            for child in children.values():
                assert child.stdout is not None
                assert child.stdout.readline().strip() == "done"
    finally:
        for child in children.values():
            child.kill()
            child.wait()
    assert 0.55 < used.group_s["serve"] < 0.85
    assert 0.55 < used.group_s["workers"] < 0.85
    assert used.machine_busy_s >= used.group_s["serve"] + used.group_s["workers"] - 0.1
    figures = used.as_json(orders=100)
    assert figures["ms_per_order"]["serve"] == pytest.approx(used.group_s["serve"] * 10,
                                                             abs=0.01)
    hub = sum(figures["ms_per_order"][g] for g in ("serve", "workers", "postgresql"))
    assert figures["hub_ms_per_order"] == pytest.approx(hub, abs=0.03)
    assert figures["hub_orders_per_s_if_alone_on_all_cores"] == pytest.approx(
        used.cores * 1000 / figures["hub_ms_per_order"], rel=0.01)


def test_no_orders_no_figures() -> None:
    assert cpu.Report().as_json(orders=0) == {}
