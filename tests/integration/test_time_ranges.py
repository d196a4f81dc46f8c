"""Times at the edges of the calendar are a 422 naming the field, never a 500, on every input
that takes one: order placed_at, event occurred_at, stock as_of, run filters since/until."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import order_body
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user

# Overflows converted to UTC (10000-01-01 and year 0), and just outside the accepted range.
EDGES = ["9999-12-31T23:00:00-02:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00+00:00",
         "1899-12-31T23:59:59+00:00"]


def _refused(answer: Any, field: str) -> None:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field, error
    assert field.split(".")[-1].split("]")[-1] in error["message"]


@pytest.mark.parametrize("when", EDGES)
def test_an_order_placed_at_the_edge_of_time_is_refused(api: TestClient, when: str) -> None:
    _refused(api.post("/api/v1/orders", json=order_body("EDGE-1", placed_at=when)),
             "placed_at")
    assert api.get("/api/v1/orders").json()["items"] == []  # nothing stored


def test_events_and_stock_at_the_edge_of_time_are_refused(api: TestClient) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("EDGE-2")).json()["id"]
    for when in EDGES:
        _refused(api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "payment.succeeded", "source": "shopee", "source_event_id": when,
            "occurred_at": when}), "occurred_at")
        _refused(api.put("/api/v1/inventory/levels", json={
            "source_event_id": f"levels-{when}",
            "levels": [{"source": "NB", "sku": "DIAPER-L", "on_hand": 5, "as_of": when}]}),
            "levels[0].as_of")
    assert [e["type"] for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]] \
        == ["order.placed"]


def test_run_filters_at_the_edge_of_time_are_refused(api: TestClient) -> None:
    for field in ("since", "until"):
        for when in EDGES[:2]:
            _refused(api.get("/api/v1/rule-runs", params={field: when}), field)
    # A very early or late filter that converts is a filter like any other.
    wide = {"since": "0001-01-02T00:00:00+00:00", "until": "9999-12-30T00:00:00+00:00"}
    assert api.get("/api/v1/rule-runs", params=wide).json()["items"] == []


def test_console_run_filters_at_the_edge_of_time_are_refused(hub: Hub) -> None:
    with hub.db.write() as conn:
        create_user(AccountRepository(conn), "viewer", "correct-horse-42", "viewer", hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text)
        assert csrf
        client.post("/console/login", data={"username": "viewer", "password": "correct-horse-42",
                                            "csrf_token": csrf.group(1)})
        for field, day in (("until", "9999-12-31"), ("since", "0001-01-01")):
            answer = client.get("/console/rule-runs", params={field: day})
            assert answer.status_code in (200, 422), answer.text
            assert "2026-11-26" in answer.text  # the form says what a date looks like
