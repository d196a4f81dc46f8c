"""Expectations on a history with known silent breakpoints, built through the API, on SQLite
and PostgreSQL: the live clocks (fired by moving the FakeClock) and the retroactive query over
the snapshot find the same breaches, the same lateness and the same amounts at risk."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from orderpilot.bootstrap import Hub
from orderpilot.services import expectations

PAID_BOOKED = {"name_zh": "支付后15分钟内ERP入账", "name_en": "Booked within 15 min",
               "after": "payment.succeeded", "expect": "erp.booked", "within_minutes": 15,
               "source": "erp", "severity": "warning"}


def settle(hub: Hub, rounds: int = 6) -> None:
    dispatcher, runner = hub.dispatcher("test"), hub.runner("test")
    for _ in range(rounds):
        if dispatcher.run_once() + runner.run_once() == 0:
            return


def place(api: TestClient, external_id: str, **changes: Any) -> str:
    answer = api.post("/api/v1/orders", json=order_body(external_id, **changes))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def report(api: TestClient, order_id: str, type_: str, source: str, at: datetime,
           **data: Any) -> None:
    answer = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": type_, "source": source, "occurred_at": at.isoformat(), "data": data})
    assert answer.status_code in (200, 201), answer.text


def test_live_clocks_and_the_retroactive_query_find_the_same_silent_breakpoints(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    put = api.put("/api/v1/expectations/paid_booked", json=PAID_BOOKED)
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["retroactive_count"]) == (1, 0)
    t0 = clock()
    on_time, late, never, never_usd, unpaid = (
        place(api, "E-1"), place(api, "E-2"), place(api, "E-3"),
        place(api, "E-4", currency="USD",
              lines=[{"sku": "PEN", "quantity": 1, "unit_price": "100.00"}], total="100.00"),
        place(api, "E-5"))
    for order in (on_time, late, never, never_usd):
        report(api, order, "payment.succeeded", "shopee", t0)
    settle(hub)
    clock.advance(minutes=10)
    report(api, on_time, "erp.booked", "kingdee", clock())
    settle(hub)
    clock.advance(minutes=6)  # 16 min after payment: three clocks are due
    settle(hub)
    listed = {x["code"]: x for x in api.get("/api/v1/expectations").json()["items"]}
    assert listed["paid_booked"]["open_breaches"] == 3
    assert listed["paid_booked"]["open_amount_at_risk"] == {"CNY": "516.00", "USD": "100.00"}
    breached = api.get(f"/api/v1/orders/{never}/events").json()["items"]
    assert [e["type"] for e in breached].count("expectation.breached") == 1
    clock.advance(minutes=9)  # the ERP books the second order 25 min after payment
    report(api, late, "erp.booked", "kingdee", clock())
    settle(hub)
    clock.advance(minutes=1)
    settle(hub)  # nothing else is due; the timer of the on-time order was cancelled

    live = api.get("/api/v1/expectations/paid_booked").json()["breaches"]
    by_order = {b["order_id"]: b for b in live}
    assert set(by_order) == {late, never, never_usd}
    assert (by_order[late]["status"], by_order[late]["late_by_seconds"]) == ("resolved_late", 600)
    assert [by_order[o]["status"] for o in (never, never_usd)] == ["open", "open"]
    assert unpaid not in by_order and on_time not in by_order

    retro = api.get("/api/v1/expectations/paid_booked/breaches").json()
    assert retro["count"] == 3
    assert retro["amount_at_risk"] == {"CNY": "258.00", "USD": "100.00"}
    assert {(i["order_id"], i["after_at"], i["due_at"], i["resolved_at"])
            for i in retro["items"]} == {
        (b["order_id"], b["after_at"], b["due_at"], b["resolved_at"]) for b in live}
    listed = {x["code"]: x for x in api.get("/api/v1/expectations").json()["items"]}
    assert listed["paid_booked"]["open_amount_at_risk"] == retro["amount_at_risk"]
    # A window that ends before the payments finds none; evaluate stores the count.
    assert api.get("/api/v1/expectations/paid_booked/breaches",
                   params={"until": t0.isoformat()}).json()["count"] == 0
    assert api.post("/api/v1/expectations/paid_booked/evaluate").json()[
        "retroactive_count"] == 3


def _returned(api: TestClient, external_id: str, at: datetime, opened: str,
              closed_before: str | None = None) -> str:
    order = place(api, external_id)
    report(api, order, "payment.succeeded", "shopee", at)
    report(api, order, "erp.receivable_opened", "kingdee", at + timedelta(minutes=20),
           amount=opened)
    report(api, order, "wms.released", "wms", at + timedelta(hours=1))
    report(api, order, "shipment.shipped", "sf", at + timedelta(hours=5))
    if closed_before is not None:
        report(api, order, "erp.receivable_closed", "kingdee", at + timedelta(hours=6),
               amount=closed_before)
    report(api, order, "return.requested", "shopee", at + timedelta(days=2))
    return order


def test_history_before_the_expectation_counts_and_receivables_are_the_amount_at_risk(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    start = clock() - timedelta(days=10)
    closed = _returned(api, "R-1", start, "258.00")
    report(api, closed, "erp.receivable_closed", "kingdee", start + timedelta(days=2, hours=3),
           amount="258.00")
    still_open = _returned(api, "R-2", start, "258.00")
    partly = _returned(api, "R-3", start, "300.00", closed_before="100.00")
    closed_late = _returned(api, "R-4", start, "258.00")
    report(api, closed_late, "erp.receivable_closed", "kingdee",
           start + timedelta(days=4), amount="258.00")
    settle(hub)
    put = api.put("/api/v1/expectations/return_receivable", json={
        "name_zh": "退货后核销应收", "name_en": "Receivable closed after a return",
        "after": "return.requested", "expect": "erp.receivable_closed",
        "within_minutes": 1440, "source": "erp", "severity": "info"})
    assert put.json()["retroactive_count"] == 3
    retro = api.get("/api/v1/expectations/return_receivable/breaches").json()
    assert {i["order_id"]: i["resolved_at"] is None for i in retro["items"]} == {
        still_open: True, partly: True, closed_late: False}
    assert retro["amount_at_risk"] == {"CNY": "458.00"}  # 258.00 + (300.00 - 100.00)
    # The condition narrows the orders watched, in SQL as in Python.
    api.put("/api/v1/expectations/return_receivable", json={
        **put.json(), "condition": [{"field": "sku", "op": "has", "value": "DIAPER-L"},
                                    {"field": "total", "op": "gte", "value": "300.00"}]})
    assert api.get("/api/v1/expectations/return_receivable/breaches").json()["count"] == 0


def test_a_breach_holds_the_order_and_starts_a_rule(hub: Hub, api: TestClient,
                                                    clock: FakeClock) -> None:
    rule_id = hub.rules.create({"name": "tag breached", "trigger": {
        "kind": "event", "event": "expectation.breached"}, "conditions": {"all": []},
        "actions": [{"id": "t", "type": "order.tag", "params": {"tags": ["未入账"]}}]},
        "ops", key="breached")
    hub.rules.publish(rule_id, "ops", "test")
    api.put("/api/v1/expectations/paid_booked", json={**PAID_BOOKED, "severity": "hold"})
    order = place(api, "H-1")
    report(api, order, "payment.succeeded", "shopee", clock())
    settle(hub)
    clock.advance(minutes=15)
    settle(hub)
    settle(hub)  # redelivery and a second pass change nothing
    shown = api.get(f"/api/v1/orders/{order}").json()
    assert [h["reason"] for h in shown["holds"] if h["released_at"] is None] == [
        "expectation:paid_booked"]
    assert "未入账" in shown["tags"]
    events = [e["type"] for e in api.get(f"/api/v1/orders/{order}/events").json()["items"]]
    assert events.count("expectation.breached") == 1
    assert events.count("hold.placed") == 1
    # Disabling closes the open breach; the order keeps its hold until ops release it.
    gone = api.delete("/api/v1/expectations/paid_booked").json()
    assert (gone["enabled"], gone["breaches_closed"]) == (False, 1)


def test_bad_expectations_are_refused_with_the_field_and_both_languages(
        api: TestClient, tokens: dict[str, str]) -> None:
    cases = [({**PAID_BOOKED, "after": "payment.maybe"}, "after"),
             ({**PAID_BOOKED, "expect": "payment.succeeded"}, "expect"),
             ({**PAID_BOOKED, "within_minutes": 0}, "within_minutes"),
             ({**PAID_BOOKED, "within_minutes": 60 * 24 * 61}, "within_minutes"),
             ({**PAID_BOOKED, "severity": "panic"}, "severity"),
             ({**PAID_BOOKED, "condition": [{"field": "total", "op": "has", "value": "1"}]},
              "condition[0].op"),
             ({**PAID_BOOKED, "condition": [{"field": "total", "op": "gt", "value": "1,000"}]},
              "condition[0].value"),
             ({**PAID_BOOKED, "name_zh": ""}, "name_zh")]
    for body, field in cases:
        answer = api.put("/api/v1/expectations/paid_booked", json=body)
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field
        assert error["message"] and error["message_zh"] != error["message"]
    assert api.put("/api/v1/expectations/Bad-Code", json=PAID_BOOKED).status_code == 422
    assert api.get("/api/v1/expectations").json()["items"] == []
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.put("/api/v1/expectations/paid_booked", json=PAID_BOOKED,
                   headers=viewer).status_code == 403
    assert api.get("/api/v1/expectations/templates", headers=viewer).status_code == 200
    assert api.get("/api/v1/expectations/nope").status_code == 404


def test_a_timer_fired_twice_records_one_breach_one_event_one_hold(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    """Two workers firing the same due clock (a lease ran out mid-way): the breach is unique
    per expectation and A event, and the event and hold are written with it or not at all."""
    api.put("/api/v1/expectations/paid_booked", json={**PAID_BOOKED, "severity": "hold"})
    order = place(api, "K-1")
    report(api, order, "payment.succeeded", "shopee", clock())
    events = api.get(f"/api/v1/orders/{order}/events").json()["items"]
    paid = next(e for e in events if e["type"] == "payment.succeeded")
    due = clock() + timedelta(minutes=15)
    payload = {"code": "paid_booked", "order_id": order, "after_event_id": paid["id"],
               "after_at": clock().isoformat(), "due_at": due.isoformat()}
    clock.advance(minutes=16)
    for _ in range(2):
        with hub.uow() as uow:
            expectations.on_due(payload, uow, clock)
    shown = api.get(f"/api/v1/orders/{order}").json()
    assert [h["reason"] for h in shown["holds"]] == ["expectation:paid_booked"]
    types = [e["type"] for e in api.get(f"/api/v1/orders/{order}/events").json()["items"]]
    assert types.count("expectation.breached") == 1
    assert len(api.get("/api/v1/expectations/paid_booked").json()["breaches"]) == 1
