"""/api/v1/kpis, /kpis/trend and /kpis/manual-interventions on the hand-made history of
kpi_seed.py (every number explained there), on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import FakeClock
from kpis import kpi_seed as s
from orderpilot.bootstrap import Hub

PERIOD = {"since": "2026-11-01", "until": "2026-11-07"}  # until includes the 7th


@pytest.fixture
def ids(hub: Hub, clock: FakeClock) -> dict[str, str]:
    clock.now = s.EARLY_NOW
    return s.seed(hub)


def test_the_figures_of_a_period_and_a_channel(api: Any, ids: dict[str, str]) -> None:
    body = api.get("/api/v1/kpis", params=PERIOD).json()
    assert body == {
        "orders": 8, "fulfilment_cycle_hours": {"p50": 36.0, "p90": 108.0},
        "on_time_rate": 0.5, "repurchase_rate_30d": 0.5, "repurchase_rate_90d": None,
        "return_processing_hours": {"p50": 12.0, "p90": 30.0}, "cancellation_rate": 0.25,
        "manual_intervention_rate": 0.25, "discrepancy_per_mille": 125.0}
    lazada = api.get("/api/v1/kpis", params={**PERIOD, "channel": "lazada"}).json()
    assert (lazada["orders"], lazada["cancellation_rate"]) == (2, 0.5)
    shop = api.get("/api/v1/kpis", params={**PERIOD, "shop": "SG-02"}).json()
    assert shop["orders"] == 2


def test_the_trend_per_day_and_per_week(api: Any, ids: dict[str, str]) -> None:
    days = api.get("/api/v1/kpis/trend", params={**PERIOD, "bucket": "day"}).json()
    assert days["bucket"] == "day"
    assert [p["start"][:10] for p in days["points"]] == [
        f"2026-11-0{d}" for d in range(1, 8)]
    assert [p["orders"] for p in days["points"]] == [1, 1, 1, 2, 1, 1, 1]
    assert days["points"][1]["manual_intervention_rate"] == 1.0  # A2 on the 2nd
    assert days["points"][1]["fulfilment_cycle_hours"] == {"p50": 108.0, "p90": 108.0}
    weeks = api.get("/api/v1/kpis/trend", params={**PERIOD, "bucket": "week"}).json()
    # 2026-11-01 is a Sunday: its week began on Monday 10-26 and is clipped to the period
    assert [(p["start"][:10], p["orders"]) for p in weeks["points"]] == [
        ("2026-11-01", 1), ("2026-11-02", 7)]


def test_manual_interventions_per_day_channel_reason_with_the_orders(
        api: Any, ids: dict[str, str]) -> None:
    body = api.get("/api/v1/kpis/manual-interventions", params=PERIOD).json()
    assert (body["orders"], body["manual"], body["rate"], body["goal"]) == (8, 2, 0.25, 0.05)
    assert [(d["day"], d["orders"], d["manual"]) for d in body["by_day"]] == [
        ("2026-11-01", 1, 0), ("2026-11-02", 1, 1), ("2026-11-03", 1, 0),
        ("2026-11-04", 2, 0), ("2026-11-05", 1, 1), ("2026-11-06", 1, 0),
        ("2026-11-07", 1, 0)]
    assert [(c["channel"], c["orders"], c["manual"], c["rate"]) for c in body["by_channel"]] \
        == [("lazada", 2, 1, 0.5), ("shopee", 6, 1, 1 / 6)]
    assert [(r["reason"], r["orders"]) for r in body["by_reason"]] == [
        ("hold.place:address_incomplete", 1), ("hold.place:out_of_stock", 1),
        ("hold.release:out_of_stock", 1)]
    assert [i["order_id"] for i in body["items"]] == [ids["A2"], ids["A5"]]
    assert "customer" not in str(body) and "139" not in str(body)
    on_the_5th = api.get("/api/v1/kpis/manual-interventions",
                         params={**PERIOD, "day": "2026-11-05"}).json()
    assert [i["external_id"] for i in on_the_5th["items"]] == ["A5"]
    stock = api.get("/api/v1/kpis/manual-interventions",
                    params={**PERIOD, "reason": "hold.place:out_of_stock"}).json()
    assert [(i["external_id"], i["reasons"]) for i in stock["items"]] == [
        ("A2", ["hold.place:out_of_stock", "hold.release:out_of_stock"])]
    paged = api.get("/api/v1/kpis/manual-interventions",
                    params={**PERIOD, "page": 2, "per_page": 1}).json()
    assert (paged["total"], [i["external_id"] for i in paged["items"]]) == (2, ["A5"])


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/kpis", {"since": "yesterday"}, "since"),
    ("/api/v1/kpis", {"until": "2026-13-01"}, "until"),
    ("/api/v1/kpis", {"since": "2026-11-10", "until": "2026-11-01"}, "since"),
    ("/api/v1/kpis", {"channel": "ebay"}, "channel"),
    ("/api/v1/kpis/trend", {"bucket": "month"}, "bucket"),
    ("/api/v1/kpis/manual-interventions", {"day": "5 Nov"}, "day"),
    ("/api/v1/kpis/manual-interventions", {"page": "0"}, "page"),
])
def test_bad_input_is_a_422_naming_the_field_in_both_languages(
        api: Any, path: str, params: dict[str, str], field: str) -> None:
    r = api.get(path, params=params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert field in str(error.get("field"))
    assert error["message_zh"]


def test_every_role_reads_them_and_nobody_anonymous(api: Any, tokens: dict[str, str]) -> None:
    assert api.get("/api/v1/kpis", headers={"Authorization": ""}).status_code == 401
    for role in ("viewer", "warehouse", "finance"):
        r = api.get("/api/v1/kpis", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert r.status_code == 200, r.text
        assert r.json()["orders"] == 0
        assert r.json()["on_time_rate"] is None
