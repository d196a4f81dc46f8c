"""Level reports with bad input, duplicates and stale data; promotions; permissions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import order_body
from integration.test_inventory import drain, levels, place_and_pay, setup_stock
from orderpilot.bootstrap import Hub
from orderpilot.services.inventory import promotions


def put(api: Any, ref: str, *levels_: dict[str, Any]) -> Any:
    return api.put("/api/v1/inventory/levels", json={"source_event_id": ref,
                                                     "levels": list(levels_)})


@pytest.mark.parametrize("bad, field", [
    ({"on_hand": -1}, "levels[1].on_hand"),
    ({"on_hand": 2.5}, "levels[1].on_hand"),
    ({"on_hand": "7"}, "levels[1].on_hand"),
    ({"source": "XX"}, "levels[1].source"),
    ({"expected_at": "20/12/2026"}, "levels[1].expected_at"),
    ({"sku": ""}, "levels[1].sku"),
])
def test_a_bad_level_refuses_the_whole_report_and_names_the_field(
        api: Any, bad: dict[str, Any], field: str) -> None:
    setup_stock(api)
    good = {"source": "NB", "sku": "DIAPER-L", "on_hand": 99}
    r = put(api, "bad-1", good, {"source": "HZ", "sku": "DIAPER-L", "on_hand": 5, **bad})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert levels(api)["NB"]["on_hand"] == 3  # the good level was not applied either


def test_the_same_report_twice_is_applied_once(api: Any) -> None:
    setup_stock(api)
    level = {"source": "NB", "sku": "DIAPER-L", "on_hand": 10}
    first = put(api, "dup-1", level).json()
    again = put(api, "dup-1", level).json()
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["levels"] == first["levels"]
    reused = put(api, "dup-1", {**level, "on_hand": 11})
    assert reused.status_code == 409 and reused.json()["error"]["field"] == "source_event_id"
    assert levels(api)["NB"]["on_hand"] == 10


def test_a_report_older_than_the_applied_one_is_ignored_and_said_so(api: Any) -> None:
    setup_stock(api)  # applied as of 09:00 Shanghai
    r = put(api, "old-1", {"source": "NB", "sku": "DIAPER-L", "on_hand": 40,
                           "as_of": "2026-11-26T08:00:00+08:00"}).json()
    assert r["status"] == "stale" and r["levels"][0]["outcome"] == "stale"
    assert levels(api)["NB"]["on_hand"] == 3


def test_availability_of_an_unknown_sku_is_a_clear_404(api: Any) -> None:
    setup_stock(api)
    r = api.get("/api/v1/availability", params={"sku": "NOPE"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "sku"


def test_sync_runs_are_recorded_and_sources_show_totals(api: Any) -> None:
    setup_stock(api)
    runs = api.get("/api/v1/inventory/sync-runs").json()["items"]
    assert [(r["source_event_id"], r["changes"]) for r in runs] == [("wms-1", 3)]
    nb = next(s for s in api.get("/api/v1/inventory/sources").json()["items"]
              if s["code"] == "NB")
    assert (nb["kind_zh"], nb["on_hand"], nb["skus"]) == ("保税现货", 3, 1)


def test_a_viewer_may_read_but_not_change_stock(api: Any, tokens: dict[str, str]) -> None:
    setup_stock(api)
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.get("/api/v1/inventory/levels", headers=viewer).status_code == 200
    assert put(api, "x", {"source": "NB", "sku": "A", "on_hand": 1}).status_code == 200
    r = api.put("/api/v1/inventory/levels", headers=viewer, json={
        "source_event_id": "v", "levels": [{"source": "NB", "sku": "A", "on_hand": 1}]})
    assert r.status_code == 403


def test_strategy_placed_allocates_at_placing_and_split_spans_sources(
        api: Any, hub: Hub) -> None:
    setup_stock(api, nb=1, hz=2)
    r = api.put("/api/v1/inventory/strategies/shopee",
                json={"allocate_on": "placed", "allow_split": True})
    assert r.status_code == 200
    body = order_body("SP1", lines=[{"sku": "DIAPER-L", "quantity": 3, "unit_price": "1.00"}],
                      total="3.00")
    order_id = api.post("/api/v1/orders", json=body).json()["id"]
    drain(hub)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert detail["status"] == "placed"
    assert sorted((a["source"], a["quantity"]) for a in detail["allocations"]) == \
        [("HZ", 2), ("NB", 1)]
    bad = api.put("/api/v1/inventory/strategies/shopee", json={"tiers": ["in_transit"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "tiers[0]"


def test_a_promotion_gives_exactly_quota_gifts_under_concurrency(api: Any, hub: Hub) -> None:
    setup_stock(api)
    put(api, "gift-stock", {"source": "NB", "sku": "SAMPLE", "on_hand": 10})
    created = api.post("/api/v1/promotions", json={
        "name": "直播间前5单送试用装", "trigger_sku": "DIAPER-L", "gift_sku": "SAMPLE",
        "gift_source": "NB", "quota": 5}).json()
    board = api.post(f"/api/v1/promotions/{created['id']}/start").json()
    assert (board["status"], board["remaining"]) == ("live", 5)
    assert levels_of(api, "SAMPLE")["NB"]["available"] == 5
    ids = [api.post("/api/v1/orders", json=order_body(f"G{i}")).json()["id"]
           for i in range(12)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda o: promotions.claim_for_order(o, hub.uow, hub.clock), ids))
    assert sum(len(g) for g in got) == 5
    drain(hub)  # the order.placed handler finds every slot taken or already claimed
    board = api.get(f"/api/v1/promotions/{created['id']}").json()
    assert (board["claimed"], board["remaining"], len(board["orders"])) == (5, 0, 5)
    winner = board["orders"][0]["order_id"]
    detail = api.get(f"/api/v1/orders/{winner}").json()
    assert detail["gifts"][0]["sku"] == "SAMPLE"
    api.post(f"/api/v1/orders/{winner}/events", json={
        "type": "order.cancelled", "source": "shopee", "occurred_at": "2026-11-26T10:05:00+08:00"})
    drain(hub)
    assert api.get(f"/api/v1/promotions/{created['id']}").json()["remaining"] == 1
    ended = api.post(f"/api/v1/promotions/{created['id']}/end").json()
    assert ended["status"] == "ended"
    assert levels_of(api, "SAMPLE")["NB"]["available"] == 6  # 4 gifts stay with their orders


def test_a_promotion_cannot_lock_more_than_is_free(api: Any) -> None:
    setup_stock(api)
    created = api.post("/api/v1/promotions", json={
        "name": "too big", "trigger_sku": "DIAPER-L", "gift_sku": "DIAPER-L",
        "gift_source": "NB", "quota": 100}).json()
    r = api.post(f"/api/v1/promotions/{created['id']}/start")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_enough_stock"
    assert levels(api)["NB"]["available"] == 3


def test_gifts_are_not_mistaken_for_an_allocation(api: Any, hub: Hub) -> None:
    setup_stock(api)
    put(api, "gift-stock", {"source": "NB", "sku": "SAMPLE", "on_hand": 10})
    created = api.post("/api/v1/promotions", json={
        "name": "p", "trigger_sku": "DIAPER-L", "gift_sku": "SAMPLE", "gift_source": "NB",
        "quota": 2}).json()
    api.post(f"/api/v1/promotions/{created['id']}/start")
    order_id = place_and_pay(api, hub, "GA1", 1)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert detail["status"] == "allocated"
    assert sorted(a["sku"] for a in detail["allocations"]) == ["DIAPER-L", "SAMPLE"]


def levels_of(api: Any, sku: str) -> dict[str, dict[str, Any]]:
    items = api.get("/api/v1/inventory/levels", params={"sku": sku}).json()["items"]
    return {i["source"]: i for i in items}
