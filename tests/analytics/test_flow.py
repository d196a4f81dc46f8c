"""The lifecycle board on a history with known lags and faults (flow_history.py), through the
API, on SQLite and PostgreSQL: exact quantiles, late, duplicated and out-of-order reports,
the filters, the slowest orders of an edge, the findings, and the 422s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flow_history import BASE, BOOK, PAY, build

from conftest import FakeClock
from orderpilot.adapters.analytics import flow
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.bootstrap import Hub
from orderpilot.domain.flow import FlowFilter

FLOW = "/api/v1/diagnosis/flow"


def edges(body: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {(t["from"], t["to"]): (t["count"], t["p50_seconds"], t["p90_seconds"],
                                   t["p99_seconds"], t["mean_seconds"])
            for t in body["transitions"]}


def sources(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {s["source"]: (s["system"], s["count"], s["lag_p50_seconds"], s["lag_p99_seconds"],
                          s["late"], s["duplicates"], s["out_of_order"])
            for s in body["sources"]}


@pytest.fixture
def history(hub: Hub, api: Any, clock: FakeClock) -> list[str]:
    return build(api, clock)


def test_the_board_counts_what_happened_with_exact_latencies(
        api: Any, history: list[str]) -> None:
    answer = api.get(FLOW, params={"channel": "shopee"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["orders"] == 5
    assert edges(body) == {
        ("placed", "paid"): (5, 180.0, 276.0, 297.6, 180.0),
        ("paid", "erp_booked"): (5, 720.0, 816.0, 837.6, 720.0),
        ("erp_booked", "released_to_wms"): (5, 1800.0, 1800.0, 1800.0, 1452.0),
        # order 3's packing happened before the picking reported ahead of it
        ("released_to_wms", "packed"): (1, 200.0, 200.0, 200.0, 200.0),
        ("packed", "picked"): (1, 100.0, 100.0, 100.0, 100.0),
    }
    targets = {(t["from"], t["to"]): (t["target_seconds"], t["grade"])
               for t in body["transitions"]}
    assert targets[("paid", "erp_booked")] == (900, "on_target")
    assert targets[("erp_booked", "released_to_wms")] == (1800, "on_target")
    assert targets[("packed", "picked")] == (None, "no_target")
    assert sources(body) == {
        "shopee": ("storefront", 5, 5.0, 5.0, 0, 1, 0),
        "kingdee": ("erp", 5, 90.0, 148.8, 1, 2, 0),
        "wms": ("wms", 7, 10.0, 288.0, 0, 0, 1),
    }
    assert body["snapshot"]["events"] > 0


def test_findings_say_the_erp_lag_in_both_languages(api: Any, history: list[str]) -> None:
    found = {f["code"]: (f["zh"], f["en"]) for f in api.get(
        FLOW, params={"channel": "shopee"}).json()["findings"]}
    assert found["average_time.paid.erp_booked"] == (
        "ERP 平均在付款后 12 分钟入账", "ERP books orders on average 12 min after payment")
    assert found["average_time.placed.paid"] == (
        "买家平均在下单后 3 分钟付款", "Buyers pay on average 3 min after placing the order")
    assert "all_on_target" in found
    assert found["slowest_source.wms"] == (
        "回报最慢的是WMS：p99 延迟 5 分钟，中位 10 秒",
        "The WMS reports slowest: lag p99 5 min, median 10 s")
    assert found["report_problems.kingdee"][1] == \
        "ERP (Kingdee): 1 late, 2 duplicated and 0 out-of-order reports"
    assert [c for c in found if c.startswith("report_problems.")] == [
        "report_problems.kingdee", "report_problems.shopee", "report_problems.wms"]


def test_filters_by_day_channel_shop_and_sku(api: Any, history: list[str]) -> None:
    everything = api.get(FLOW).json()
    assert everything["orders"] == 6
    assert edges(everything)[("placed", "paid")] == (6, 210.0, 450.0, 585.0, 250.0)
    assert sources(everything)["lazada"] == ("storefront", 1, 5.0, 5.0, 0, 0, 0)
    for params in ({"sku": "MILK-01"}, {"shop_id": "LZ-01"}, {"channel": "lazada"},
                   {"since": "2026-11-27"}, {"since": "2026-11-27T09:00:00+08:00"}):
        body = api.get(FLOW, params=params).json()
        assert body["orders"] == 1, params
        assert edges(body) == {("placed", "paid"): (1, 600.0, 600.0, 600.0, 600.0)}, params
        assert list(sources(body)) == ["lazada"], params
    first_day = api.get(FLOW, params={"until": "2026-11-26", "sku": "DIAPER-L"}).json()
    assert first_day["orders"] == 5
    assert edges(first_day)[("paid", "erp_booked")][0] == 5
    nothing = api.get(FLOW, params={"channel": "tmall"}).json()
    assert (nothing["orders"], nothing["transitions"], nothing["sources"]) == (0, [], [])
    assert [f["code"] for f in nothing["findings"]] == ["no_orders"]


def test_slowest_orders_of_an_edge(api: Any, history: list[str]) -> None:
    answer = api.get(f"{FLOW}/slowest", params={"from": "paid", "to": "erp_booked",
                                                "limit": 2, "channel": "shopee"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"]) == ("paid", "erp_booked")
    assert [(i["order_id"], i["external_id"], i["channel"], i["seconds"])
            for i in body["items"]] == [(history[4], "FLOW-4", "shopee", 840.0),
                                        (history[3], "FLOW-3", "shopee", 780.0)]
    first = body["items"][0]
    assert (first["from_at"], first["to_at"]) == ("2026-11-26T02:05:00+00:00",
                                                  "2026-11-26T02:19:00+00:00")
    none = api.get(f"{FLOW}/slowest", params={"from": "paid", "to": "nowhere"}).json()
    assert none["items"] == []


@pytest.mark.parametrize(("params", "field"), [
    ({"since": "26/11/2026"}, "since"), ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-11-26T10:00:00"}, "since"),  # no offset
    ({"since": "2026-11-27", "until": "2026-11-26"}, "until"),
])
def test_bad_dates_are_refused_with_the_field(api: Any, params: dict[str, str],
                                              field: str) -> None:
    for path, extra in ((FLOW, {}), (f"{FLOW}/slowest", {"from": "paid", "to": "erp_booked"})):
        answer = api.get(path, params={**params, **extra})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == field and error["message_zh"]


def test_slowest_needs_an_edge_and_a_sane_limit(api: Any) -> None:
    missing = api.get(f"{FLOW}/slowest", params={"from": "paid"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "to"
    too_many = api.get(f"{FLOW}/slowest", params={"from": "paid", "to": "erp_booked",
                                                   "limit": 501})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "limit"


def test_every_role_reads_the_board_and_nobody_anonymous(
        api: Any, tokens: dict[str, str]) -> None:
    for role, token in tokens.items():
        answer = api.get(FLOW, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, role
    assert api.get(FLOW, headers={"Authorization": ""}).status_code == 401


def test_the_board_follows_new_reports_and_a_reset_snapshot(
        hub: Hub, api: Any, clock: FakeClock, history: list[str]) -> None:
    """The tables derived from the snapshot are redone for the orders with new events only,
    and from scratch when the snapshot starts again."""
    before = edges(api.get(FLOW, params={"channel": "shopee"}).json())
    released = BASE + timedelta(seconds=PAY[0] + BOOK[0] + 1800)
    clock.now = released + timedelta(hours=3)
    answer = api.post(f"/api/v1/orders/{history[0]}/events", json={
        "type": "wms.picked", "source": "wms", "source_event_id": "pick-0",
        "occurred_at": (released + timedelta(seconds=900)).isoformat()})
    assert answer.status_code in (200, 201), answer.text
    after = edges(api.get(FLOW, params={"channel": "shopee"}).json())
    assert after == {**before, ("released_to_wms", "picked"): (1, 900.0, 900.0, 900.0, 900.0)}
    fresh = Snapshot(hub.db)
    fresh.refresh()
    assert edges(flow.board(fresh, FlowFilter(channel="shopee"))) == after
    with fresh.cursor() as cur:  # the snapshot starts again: the derived tables too
        cur.execute("DELETE FROM snapshot_meta")
    fresh.refresh()
    assert edges(flow.board(fresh, FlowFilter(channel="shopee"))) == after
    fresh.close()
