"""`orderpilot bench diagnosis` at a small N: the JSON it prints, and the history it builds
(written straight into the tables) read back by the lifecycle board with exactly the built
ERP lag, late, duplicated and out-of-order reports; on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics
from typing import Any

from orderpilot.adapters.analytics import flow
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.benchmarks import diagnosis
from orderpilot.bootstrap import Hub
from orderpilot.domain.flow import FlowFilter

N = 2000
EVENTS = 10 * N + N - N // 1000  # ten per order, and a receivable for all but one in 1000


def quiet(*_: Any) -> None:
    return None


def test_the_bench_prints_its_numbers_and_checks_the_erp_lag() -> None:
    result = diagnosis.run(N, None, quiet)
    assert (result["benchmark"], result["db"], result["orders"], result["events"]) == (
        "diagnosis", "sqlite", N, EVENTS)
    for key in ("snapshot_load_seconds", "snapshot_refresh_seconds", "derived_tables_seconds",
                "flow_seconds", "expectation_seconds", "reconcile_seconds", "peak_rss_mb",
                "build_seconds"):
        assert isinstance(result[key], float) and result[key] >= 0, key
    assert result["pending"] == {}
    # The built ERP books within 10-14 min: the 15-minute expectation finds no breach. The
    # reconciliation finds exactly the receivables built missing or wrong.
    assert result["expectation_check"]["breaches"] == 0
    found = result["reconcile_check"]
    assert {k: v for k, v in found["counts"].items() if v} == found["expected"] == {
        "amount_mismatch": N // 1000, "shipped_without_receivable": N // 1000}
    assert found["discrepant_orders"] == 2 * N // 1000
    delays = [600 + i % 241 for i in range(N)]  # 10-14 min after payment, as documented
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    assert result["flow_check"]["built"] == {
        "count": N, "p50_seconds": round(cuts[49], 3), "p90_seconds": round(cuts[89], 3),
        "p99_seconds": round(cuts[98], 3), "mean_seconds": round(statistics.fmean(delays), 3)}
    assert result["flow_check"]["equal"] is True


def test_the_built_history_reads_back_with_its_faults(hub: Hub) -> None:
    assert diagnosis.build(hub.db, N, quiet) == EVENTS
    snapshot = Snapshot(hub.db)
    snapshot.refresh()
    board = flow.board(snapshot, FlowFilter())
    snapshot.close()
    edges = {(t["from"], t["to"]): t for t in board["transitions"]}
    counts = {k: t["count"] for k, t in edges.items()}
    assert counts == {
        ("placed", "paid"): N, ("paid", "erp_booked"): N, ("erp_booked", "allocated"): N,
        ("allocated", "released_to_wms"): N, ("released_to_wms", "picked"): N - 10,
        ("picked", "packed"): N - 10, ("packed", "shipped"): N - 10,
        # every 200th order (from the second) was packed 300 s before its picking
        ("released_to_wms", "packed"): 10, ("packed", "picked"): 10, ("picked", "shipped"): 10,
        ("shipped", "in_transit"): N, ("in_transit", "delivered"): N}
    assert (edges[("packed", "picked")]["p50_seconds"],
            edges[("picked", "shipped")]["p99_seconds"]) == (300.0, 4500.0)
    assert edges[("paid", "erp_booked")]["mean_seconds"] == round(
        statistics.fmean(600 + i % 241 for i in range(N)), 3)
    sources = {s["source"]: s for s in board["sources"]}
    assert (sources["kingdee"]["count"], sources["kingdee"]["late"]) == (
        2 * N - N // 1000, N // 100)  # bookings and receivables
    assert (sources["wms"]["count"], sources["wms"]["duplicates"],
            sources["wms"]["out_of_order"]) == (3 * N, N // 50, 10)
    assert (sources["wms"]["lag_p50_seconds"], sources["sf"]["lag_p99_seconds"]) == (5.0, 120.0)
    assert board["orders"] == N
