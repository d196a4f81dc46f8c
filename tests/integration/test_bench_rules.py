"""`orderpilot bench rules`: event-to-action latency over HTTP against `serve` and the
simulators, counted on the measured orders only (a warm-up goes first and is left out), with
what the load generator itself cost."""

from __future__ import annotations

from orderpilot.benchmarks import rules
from orderpilot.benchmarks.scratch import scratch_database


def test_latency_counts_the_measured_orders_each_carried_out_once() -> None:
    with scratch_database(None) as scratch:
        result = rules.latency(scratch, 20, 3, lambda *_: None)
    orders = 30  # 20 events/s for 3 s, two events an order
    assert result["orders"] == orders
    assert result["warm_up_orders"] == orders  # the warm-up is as long, and not counted
    assert result["load_errors"] == 0, result["load_error_kinds"]
    # every measured payment matched the customs rule and its action was carried out once;
    # the one buyer in ten the customs simulator does not know was also sent an SMS
    assert result["runs"] == {"succeeded": orders}
    assert result["sms_sent"] == orders // 10
    assert 0 < result["event_to_action_p50_ms"] <= result["event_to_action_p99_ms"] \
        <= result["event_to_action_max_ms"]
    assert result["event_to_run_recorded_p50_ms"] <= result["event_to_action_p50_ms"]
    assert 0 < result["load_generator_cpu_ms_per_request"]
    # where the CPU went: serve (with its dispatcher) and the simulators both worked
    figures = result["cpu"]
    assert figures["ms_per_order"]["serve"] > 0
    assert figures["ms_per_order"]["simulators"] > 0
    assert 0 < figures["machine_busy_cores"] <= figures["cores"]
    # and what an order cost in statements: all of them in serve (no workers)
    statements = result["sql_statements_per_order"]
    assert statements["serve"] >= 20  # two reports, the dispatch, the run and its call
    assert statements["workers"] == 0
