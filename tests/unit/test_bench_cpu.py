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


@pytest.mark.skipif(not cpu.PROC.joinpath("stat").exists(), reason="needs Linux /proc")
def test_busy_processes_land_in_their_groups() -> None:
    serve = subprocess.Popen([sys.executable, "-c",
                              f"{BUSY}\nimport time; time.sleep(30)", "orderpilot", "serve"])
    worker = subprocess.Popen([sys.executable, "-c",
                               f"{BUSY}\nimport time; time.sleep(30)", "orderpilot", "worker"])
    try:
        time.sleep(0.05)
        with cpu.measure() as used:
            time.sleep(1.5)  # both burn 0.6 s of CPU, then sleep
    finally:
        serve.kill()
        worker.kill()
    assert 0.4 < used.group_s["serve"] < 0.9
    assert 0.4 < used.group_s["workers"] < 0.9
    assert used.machine_busy_s >= used.group_s["serve"] + used.group_s["workers"] - 0.1
    figures = used.as_json(orders=100)
    assert figures["ms_per_order"]["serve"] == pytest.approx(used.group_s["serve"] * 10,
                                                             abs=0.01)
    hub = figures["ms_per_order"]["serve"] + figures["ms_per_order"]["workers"]
    assert figures["hub_ms_per_order"] == pytest.approx(hub, abs=0.02)
    assert figures["hub_orders_per_s_if_alone_on_all_cores"] == pytest.approx(
        used.cores * 1000 / figures["hub_ms_per_order"], rel=0.01)


def test_no_orders_no_figures() -> None:
    assert cpu.Report().as_json(orders=0) == {}
