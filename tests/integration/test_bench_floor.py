"""`orderpilot bench floor`: the smallest servers that take an order, driven like `bench
ingest`, and one statement's cost through the hub's engine. The floor is only worth reading
if its servers really validate and really commit what they answer."""

from __future__ import annotations

import httpx
import pytest

from conftest import require_pg
from conftest_pg import ADMIN_URL
from orderpilot.benchmarks import floor
from orderpilot.benchmarks.ingest import order_bodies
from orderpilot.benchmarks.scratch import free_port, open_hub, scratch_database


@pytest.mark.parametrize("server", ["sqlite", "postgres"])
def test_the_durable_floor_servers_commit_every_order_they_answer(server: str) -> None:
    if server == "postgres":
        require_pg()
    result = floor.run(100, 4, None if server == "sqlite" else ADMIN_URL, lambda *_: None,
                       repeat=50)
    assert (result["benchmark"], result["db"]) == ("floor", server.replace("postgres",
                                                                            "postgresql"))
    http = result["http"]
    for mode in floor.MODES:
        assert http[mode]["errors"] == 0
        assert 0 < http[mode]["p50_ms"] <= http[mode]["p99_ms"]
        assert http[mode]["server_cpu_ms_per_order"] > 0
    # the warm-up's 200 and the 100 measured: every answered order of a durable mode is in
    # the database; the validating server writes nothing
    assert http["insert"]["orders_written"] == 300
    assert http["group_commit"]["orders_written"] == 300
    assert http["validate"]["orders_written"] == 0
    for name in ("select_by_key", "one_row_write_transaction", "select_by_key_on_driver",
                 "one_row_write_transaction_on_driver"):
        assert result["statements"][name]["per_s"] > 0
        assert result["statements"][name]["client_cpu_us"] > 0
        if server == "postgres" and name.startswith("one_row"):  # the server's side too
            assert result["statements"][name]["database_cpu_us"] > 0


def test_the_floor_refuses_an_order_the_hub_would_refuse() -> None:
    """The same model as the hub's placing route: a wrong order is a 422, not a row."""
    with scratch_database(None) as scratch:
        open_hub(scratch).close()
        database = str(scratch.data_dir / "orderpilot.db")
        with floor.floor_process("insert", free_port(), database) as base:
            body = order_bodies(1, 9, "X")[0]
            ok = httpx.post(f"{base}/api/v1/orders", json=body, timeout=30)
            body["lines"] = []
            refused = httpx.post(f"{base}/api/v1/orders", json=body, timeout=30)
        assert ok.status_code == 201 and ok.json()["id"]
        assert refused.status_code == 422
        hub = open_hub(scratch)
        try:
            assert floor.orders_written(hub, "floor") == 1
        finally:
            hub.close()
