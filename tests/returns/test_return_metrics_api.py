"""GET /api/v1/returns/metrics on SQLite and PostgreSQL over a seeded set whose answers are
known exactly (tests/returns/metrics_seed.py explains every number)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orderpilot.bootstrap import Hub
from returns.metrics_seed import seed

NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def test_metrics_of_a_known_month(api: Any, hub: Hub) -> None:
    ids = seed(hub)
    r = api.get("/api/v1/returns/metrics", params=NOVEMBER)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"]["since"] == "2026-11-01T00:00:00+08:00"
    assert body["period"]["until"] == "2026-12-01T00:00:00+08:00"
    assert (body["returns"], body["rejected"], body["returned_units"]) == (8, 1, 9)

    accuracy = body["address_accuracy"]
    assert (accuracy["routes"], accuracy["routed"], accuracy["matching_policy"],
            accuracy["rate"]) == (6, 4, 3, 0.75)
    assert accuracy["decision_required"] == 2
    assert [(d["reason"], d["count"]) for d in accuracy["decision_required_by_reason"]] == [
        ("no_outlet", 1), ("no_policy_row", 1)]
    assert accuracy["decision_required_by_reason"][0]["zh"] == "无网点"
    assert accuracy["typed_address_baseline"] == {"compared": 3, "already_right": 1,
                                                  "rate": 0.3333}
    differs = {d["return_id"]: (d["outlet_code"], d["return_centre"], d["current_centre"])
               for d in accuracy["current_policy_differs"]}
    assert differs == {ids["R2"]: ("SF-0100", "NINGBO", "YIWU"),
                       ids["R4"]: ("SF-0278", "NINGBO", "YIWU")}

    times = {s["step"]: (s["count"], s["p50"], s["p90"]) for s in body["processing_hours"]}
    assert times == {"pickup_booked": (4, 2.0, 6.0), "received": (3, 10.0, 30.0),
                     "refunded": (2, 20.0, 50.0)}

    assert [(s["sku"], s["returned_units"], s["shipped_units"], s["rate"])
            for s in body["by_sku"]] == [("A", 5, 7, 0.7143), ("C", 2, 4, 0.5),
                                         ("B", 2, 6, 0.3333)]
    assert [(x["tag"], x["returns"], x["share"]) for x in body["by_reason"]] == [
        ("quality_issue", 4, 0.5), ("wrong_item", 2, 0.25), ("changed_mind", 1, 0.125),
        ("damaged_packaging", 1, 0.125), ("wrong_size", 1, 0.125)]
    assert body["by_reason"][0]["zh"] == "质量问题"
    assert [(p["skus"], p["orders"]) for p in body["co_returned_pairs"]] == [
        (["A", "B"], 2), (["A", "C"], 2), (["B", "C"], 1)]

    text = json.dumps(body, ensure_ascii=False)
    for personal in ("张三", "13800000000", "深圳", "稠江", "某路"):
        assert personal not in text  # no PII, not even the addresses compared


def test_channel_and_period_narrow_it(api: Any, hub: Hub) -> None:
    ids = seed(hub)
    lazada = api.get("/api/v1/returns/metrics", params=NOVEMBER | {"channel": "lazada"}).json()
    assert (lazada["returns"], lazada["address_accuracy"]["routed"],
            lazada["address_accuracy"]["rate"]) == (1, 0, None)
    assert [(s["sku"], s["returned_units"], s["shipped_units"], s["rate"])
            for s in lazada["by_sku"]] == [("A", 1, 1, 1.0)]
    october = api.get("/api/v1/returns/metrics",
                      params={"since": "2026-10-01", "until": "2026-10-31"}).json()
    assert october["returns"] == 1
    assert october["address_accuracy"]["current_policy_differs"][0]["return_id"] == ids["R7"]
    assert october["processing_hours"][0]["p50"] == 100.0
    assert october["co_returned_pairs"] == []


@pytest.mark.parametrize(("params", "field"), [
    ({"since": "yesterday"}, "since"), ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-11-10", "until": "2026-11-01"}, "since"),
    ({"since": "2020-01-01", "until": "2026-11-01"}, "since"),
    ({"since": "0001-01-01"}, "since"), ({"channel": "ebay"}, "channel")])
def test_a_bad_period_is_a_422_naming_the_field(api: Any, params: dict[str, str],
                                                 field: str) -> None:
    r = api.get("/api/v1/returns/metrics", params=params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field
    assert error["message_zh"]


def test_every_role_reads_it_and_nobody_anonymous(api: Any, hub: Hub,
                                                  tokens: dict[str, str]) -> None:
    assert api.get("/api/v1/returns/metrics", headers={"Authorization": ""}).status_code == 401
    r = api.get("/api/v1/returns/metrics",
                headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert r.status_code == 200
    assert r.json()["returns"] == 0
