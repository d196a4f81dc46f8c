"""`orderpilot bench ingest` reports how fast orders are fully processed, not only accepted:
from the first order sent to an empty backlog, with stock behind every SKU and allocation on
placement, so every order it counts was allocated."""

from __future__ import annotations

from orderpilot.benchmarks import ingest


def test_fully_processed_counts_orders_that_were_allocated_and_handled() -> None:
    result = ingest.run(100, 100, 4, None, lambda *_: None)
    assert result["http_errors"] == 0
    assert result["dead_letters"] == 0
    assert result["worker_processes"] == 0
    # every order of the warm-up (200) and of the measured run was allocated
    assert result["orders_allocated"] == 300
    assert 0 < result["fully_processed_per_s"]
    # fully processed can never be faster than accepted
    assert result["fully_processed_per_s"] <= result["http_orders_per_s"] * 1.05
    assert result["backlog_drained_after_accepting_s"] >= 0
    # where the CPU went: serve did the work (no workers), and the SQLite writer it kept busy
    figures = result["cpu"]
    assert figures["ms_per_order"]["serve"] > 0
    assert figures["ms_per_order"]["workers"] == 0
    assert figures["hub_ms_per_order"] >= figures["ms_per_order"]["serve"]
    assert 0 < figures["machine_busy_cores"] <= figures["cores"]
    writer = result["sqlite_writer_in_serve"]
    assert 0 < writer["busy_share"] <= 1.0
    # an order's placement and its dispatch each share a transaction with other orders'
    # (group commit, batches), but every order was written in one
    assert 0 < writer["transactions_per_order"] <= 2
    # what an order cost in statements: serve placed them (a look-up and five rows at least)
    # and dispatched them (no workers)
    statements = result["sql_statements_per_order"]
    assert statements["serve"] >= 6 + 5  # placing, and at least allocating
    assert statements["workers"] == 0
