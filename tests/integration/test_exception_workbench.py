"""The exception workbench on SQLite and PostgreSQL: holds open and resolve exceptions once
under redelivery, SLA due and overdue, the playbook window marks what is left "decision
required", bulk actions answer a preview and refuse a changed selection, assignments and
comments are in the history and the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.events import OrderEvent
from orderpilot.services.exceptions import feed, sweep


def settle(hub: Hub, rounds: int = 8) -> None:
    dispatcher, runner = hub.dispatcher("test"), hub.runner("test")
    for _ in range(rounds):
        if dispatcher.run_once() + runner.run_once() == 0:
            return


def place(api: TestClient, external_id: str) -> str:
    answer = api.post("/api/v1/orders", json=order_body(external_id))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def hold(api: TestClient, order_id: str, reason: str) -> str:
    answer = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": reason})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def queue(api: TestClient, **filters: str) -> dict[str, Any]:
    answer = api.get("/api/v1/exceptions", params=filters)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _events(hub: Hub, type_: str) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.events).where(t.events.c.type == type_)))


def test_a_hold_opens_one_exception_and_its_release_resolves_it_under_replay(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    order_id = place(api, "EX-1")
    hold_id = hold(api, order_id, "price_error")
    settle(hub)
    settle(hub)
    [item] = queue(api)["items"]
    assert (item["kind"], item["reason"], item["subject_ref"], item["order_id"],
            item["owner_role"], item["status"]) == ("hold", "price_error", hold_id, order_id,
                                                    "ops", "open")
    assert item["external_id"] == "EX-1" and item["overdue"] is False
    [opened] = _events(hub, "exception.opened")
    assert opened.payload == {"exception_id": item["id"], "kind": "hold",
                              "reason": "price_error", "order_id": order_id}
    placed = _events(hub, "hold.placed")[0]
    redelivered = OrderEvent(order_id, "hold.placed", "hub", placed.occurred_at,
                             placed.recorded_at, placed.payload, id=placed.id)
    with hub.uow() as uow:  # at-least-once: the same event again changes nothing
        feed.on_hold_placed(redelivered, uow, clock)
    assert queue(api)["total"] == 1 and len(_events(hub, "exception.opened")) == 1

    api.request("DELETE", f"/api/v1/orders/{order_id}/holds/{hold_id}",
                json={"reason": "false_alarm"})
    settle(hub)
    assert queue(api)["total"] == 0
    [done] = queue(api, status="resolved")["items"]
    assert (done["resolution"], done["resolved_by"]) == ("false_alarm", "ops-token")


def test_stock_holds_are_out_of_stock_for_the_warehouse_and_sla_makes_them_overdue(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    order_id = place(api, "EX-2")
    hold(api, order_id, "out_of_stock")
    hold(api, order_id, "qualification_pending")
    settle(hub)
    clock.advance(minutes=241)  # qualification: 240 min; stock shortage: 480 min
    groups = api.get("/api/v1/exceptions/groups").json()["items"]
    assert [(g["reason"], g["kind"], g["count"], g["overdue"]) for g in groups] == [
        ("qualification_pending", "hold", 1, 1), ("out_of_stock", "out_of_stock", 1, 0)]
    [late] = queue(api, overdue="yes")["items"]
    assert late["reason"] == "qualification_pending" and late["overdue"] is True
    assert [i["owner_role"] for i in queue(api, kind="out_of_stock")["items"]] == ["warehouse"]


def test_still_open_after_the_playbook_window_needs_a_decision(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    order_id = place(api, "EX-3")
    hold(api, order_id, "address_incomplete")
    settle(hub)
    clock.advance(minutes=9)
    settle(hub)
    assert queue(api)["items"][0]["status"] == "open"
    clock.advance(minutes=2)
    settle(hub)
    [item] = queue(api, status="decision_required")["items"]
    assert item["decision_reason"] == "no_rule"
    history = api.get(f"/api/v1/exceptions/{item['id']}").json()["history"]
    assert [h["change"] for h in history] == ["opened", "status"]


def test_bulk_release_previews_orders_and_refuses_a_changed_selection(
        hub: Hub, api: TestClient) -> None:
    orders = [place(api, f"EX-B{i}") for i in range(3)]
    for order_id in orders:
        hold(api, order_id, "out_of_stock")
    hold(api, orders[0], "price_error")  # two exceptions on one order
    settle(hub)
    items = queue(api)["items"]
    ids = [i["id"] for i in items]
    assert len(ids) == 4
    second = next(i["id"] for i in items if i["order_id"] == orders[1])
    body = {"action": "release", "ids": ids, "reason": "stock_arrived"}
    preview = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True}).json()
    assert (preview["preview"]["orders"], preview["preview"]["exceptions"]) == (3, 4)
    unconfirmed = api.post("/api/v1/exceptions/bulk", json=body)
    assert unconfirmed.status_code == 422
    # someone resolves one of them in between: the preview no longer holds
    assert api.post(f"/api/v1/exceptions/{second}/resolve").status_code == 200
    stale = api.post("/api/v1/exceptions/bulk", json={**body, "confirm": 3})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "selection_changed"
    fresh = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True}).json()
    applied = api.post("/api/v1/exceptions/bulk",
                       json={**body, "token": fresh["preview"]["token"]})
    assert applied.status_code == 200, applied.text
    assert applied.json()["changed"] == 3
    assert queue(api)["total"] == 0
    held = [api.get(f"/api/v1/orders/{o}").json()["held"] for o in orders]
    assert held.count(True) == 1  # the hold behind the exception resolved by hand stays


def test_assignment_and_comments_are_in_the_history_and_the_audit_trail(
        hub: Hub, api: TestClient, tokens: dict[str, str]) -> None:
    order_id = place(api, "EX-4")
    hold(api, order_id, "price_error")
    settle(hub)
    exception_id = queue(api)["items"][0]["id"]
    assert api.post(f"/api/v1/exceptions/{exception_id}/assign",
                    json={"me": True}).json()["assignee"] == "ops-token"
    assert [i["id"] for i in queue(api, mine="yes")["items"]] == [exception_id]
    answer = api.post(f"/api/v1/exceptions/{exception_id}/comments",
                      json={"text": "买家电话确认价格"})
    assert answer.status_code == 201
    api.post(f"/api/v1/exceptions/{exception_id}/assign", json={"assignee": ""})
    detail = api.get(f"/api/v1/exceptions/{exception_id}").json()
    assert [c["text"] for c in detail["comments"]] == ["买家电话确认价格"]
    assert [(h["change"], h["who"]) for h in detail["history"]] == [
        ("opened", "hub"), ("assigned", "ops-token"), ("commented", "ops-token"),
        ("assigned", "ops-token")]
    with hub.db.read() as conn:
        trail = [(r.action, r.order_id) for r in conn.execute(
            sa.select(t.audit_log).where(t.audit_log.c.subject_type == "exception")
            .order_by(t.audit_log.c.seq))]
    assert trail == [("exception.assign", order_id), ("exception.comment", order_id),
                     ("exception.assign", order_id)]
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.get("/api/v1/exceptions", headers=viewer).status_code == 200
    assert api.post(f"/api/v1/exceptions/{exception_id}/resolve",
                    headers=viewer).status_code == 403


@pytest.mark.parametrize("query", [{"status": "nope"}, {"kind": "x"}, {"mine": "maybe"},
                                   {"cursor": "not-a-cursor"}])
def test_bad_filters_are_422_with_the_field(api: TestClient, query: dict[str, str]) -> None:
    answer = api.get("/api/v1/exceptions", params=query)
    assert answer.status_code == 422, answer.text


def test_paging_walks_every_exception_once(hub: Hub, api: TestClient,
                                           clock: FakeClock) -> None:
    for i in range(5):
        hold(api, place(api, f"EX-P{i}"), "price_error")
        clock.advance(seconds=1)
    settle(hub)
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/exceptions", params=params).json()
        seen += [i["external_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"EX-P{i}" for i in range(5)]


def test_the_address_playbook_runs_on_exception_opened_and_what_is_left_needs_a_decision(
        hub: Hub, api: TestClient, clock: FakeClock) -> None:
    hub.rules.create_from_template("exception-address-confirm", {}, "ops", publish=True,
                                   enable=True)
    order_id = place(api, "EX-5")
    hold(api, order_id, "address_incomplete")
    hold(api, order_id, "price_error")
    settle(hub)
    with hub.db.read() as conn:
        runs = list(conn.execute(sa.select(t.rule_runs.c.status, t.rule_runs.c.event_id)))
    opened = {e.payload["reason"]: e.id for e in _events(hub, "exception.opened")}
    # only its reason; the SMS has no provider in this hub, so the run fails
    assert [(r.event_id, r.status) for r in runs] == [(opened["address_incomplete"], "failed")]
    clock.advance(minutes=11)
    settle(hub)
    reasons = {i["reason"]: i["decision_reason"]
               for i in queue(api, status="decision_required")["items"]}
    assert reasons == {"price_error": "no_rule", "address_incomplete": "rule_failed"}


def test_the_sweep_opens_a_dead_letter_once_and_resolves_it_after_the_redrive(
        hub: Hub, api: TestClient, clock: FakeClock, tokens: dict[str, str]) -> None:
    def crm_down(event: OrderEvent, uow: Any, _clock: Any) -> None:
        raise RuntimeError("CRM is down")

    hub.registry.on("order.placed", "test.crm_down", crm_down)
    dispatcher = hub.dispatcher("test")
    dispatcher.settings.max_attempts = 1
    order_id = place(api, "EX-DL")
    dispatcher.run_once()
    sweep.ensure_sweeper(hub.uow, hub.clock)
    clock.advance(minutes=5)
    settle(hub)  # the sweep timer fires: the dead letter opens an exception
    [dead] = queue(api, kind="dead_letter")["items"]
    assert (dead["reason"], dead["order_id"], dead["owner_role"]) == (
        "dead_letter", order_id, "admin")
    assert dead["detail"]["event_type"] == "order.placed"
    assert "CRM is down" in dead["detail"]["error"]
    with hub.uow() as uow:
        assert sweep.sweep_in(uow, clock()) == (0, 0)  # again: nothing new
    hub.registry.by_event["order.placed"] = [
        h for h in hub.registry.by_event["order.placed"] if h[0] != "test.crm_down"]
    body = {"action": "retry_push", "ids": [dead["id"]]}
    refused = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True})
    assert refused.status_code == 403  # redriving dead letters is an administrator's
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    preview = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True},
                       headers=admin).json()
    assert (preview["preview"]["orders"], preview["preview"]["exceptions"]) == (1, 1)
    retried = api.post("/api/v1/exceptions/bulk", json={**body, "confirm": 1}, headers=admin)
    assert retried.status_code == 200, retried.text
    assert queue(api, kind="dead_letter")["total"] == 1  # open until the sweep sees it healthy
    dispatcher.run_once()
    clock.advance(minutes=5)
    settle(hub)  # the next sweep in the chain finds the source gone
    [done] = queue(api, kind="dead_letter", status="resolved")["items"]
    assert (done["resolution"], done["resolved_by"]) == ("source_gone", "hub")


def test_the_sweep_opens_holds_that_have_no_exception_yet(hub: Hub, api: TestClient,
                                                          clock: FakeClock) -> None:
    order_id = place(api, "EX-OLD")
    hold_id = hold(api, order_id, "qualification_pending")  # its event not delivered yet
    with hub.uow() as uow:
        assert sweep.sweep_in(uow, clock()) == (1, 0)
    settle(hub)  # the handler finds it open: nothing more
    [item] = queue(api)["items"]
    assert (item["subject_ref"], item["reason"]) == (hold_id, "qualification_pending")
    assert len(_events(hub, "exception.opened")) == 1
    with hub.uow() as uow:
        assert sweep.sweep_in(uow, clock()) == (0, 0)


def test_outbound_orders_and_channel_jobs_that_gave_up_are_swept_and_retried(
        hub: Hub, api: TestClient, clock: FakeClock, tokens: dict[str, str]) -> None:
    order_id = place(api, "EX-WMS")
    with hub.uow() as uow:
        uow.wms_outbound.make_due(order_id, clock())
        uow.wms_outbound.failed(order_id, "422 warehouse refused: unknown SKU", None)
        uow.channels.add_job("shopee-sg:order:990001", "shopee-sg", "990001", "push", None,
                             clock())
        [job] = uow.channels.claim_jobs("test", 10, timedelta(minutes=5), clock())
        uow.channels.finish_jobs([job.seq], clock(), status="dead",
                                 error="shopee answered error_param 5 times")
        assert sweep.sweep_in(uow, clock()) == (2, 0)
    failed = {i["reason"]: i for i in queue(api, kind="failed_push")["items"]}
    wms, channel = failed["wms_outbound_failed"], failed["channel_job_failed"]
    assert (wms["order_id"], wms["owner_role"]) == (order_id, "warehouse")
    assert "unknown SKU" in wms["detail"]["error"]
    assert channel["order_id"] is None  # never fetched: no order in the hub yet
    assert (channel["detail"]["source"], channel["detail"]["external_id"]) == (
        "shopee-sg", "990001")
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    body = {"action": "retry_push", "ids": [wms["id"], channel["id"]]}
    preview = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True},
                       headers=admin).json()["preview"]
    assert (preview["orders"], preview["exceptions"]) == (1, 2)
    retried = api.post("/api/v1/exceptions/bulk", json={**body, "confirm": 1}, headers=admin)
    assert retried.status_code == 200, retried.text
    with hub.db.read() as conn:
        outbound = conn.execute(sa.select(t.wms_outbound).where(
            t.wms_outbound.c.order_id == order_id)).one()
        again = conn.execute(sa.select(t.channel_jobs).where(
            t.channel_jobs.c.seq == job.seq)).one()
    assert (outbound.status, outbound.attempts) == ("due", 0)
    assert (again.status, again.attempts) == ("pending", 0)
    with hub.uow() as uow:  # the retries succeed: the sweep finds both sources gone
        uow.wms_outbound.sent(order_id, clock(), {"code": "0"})
        uow.channels.finish_jobs([job.seq], clock())
        assert sweep.sweep_in(uow, clock()) == (0, 2)
    resolved = queue(api, kind="failed_push", status="resolved")["items"]
    assert {i["resolution"] for i in resolved} == {"source_gone"}
    with hub.uow() as uow:  # a second retry of a source no longer failing changes nothing
        assert not uow.wms_outbound.requeue(order_id, clock())
        assert not uow.channels.requeue_job(job.seq, clock())
