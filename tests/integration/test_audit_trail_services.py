"""People's decisions recorded by the services, each with the order it touched: bulk tags and
releases (one entry per order), notes, ticket moves, returns taken and decided by hand (a
channel's reported return is not), rules published and paused. A rule acting on its own is
not a person and records nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from tests.conftest import order_body
from tests.integration.rules_support import settle
from tests.returns.test_returns_api import ship

from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub

TICKET_RULE = {"name": "每单一张工单", "trigger": {"kind": "event", "event": "order.placed"},
               "conditions": {"all": []},
               "actions": [{"id": "t", "type": "ticket.create",
                            "params": {"title": "看看 {{ order.external_id }}"}}]}


def _entries(hub: Hub) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.seq)))


def _place(api: Any, external_id: str) -> str:
    answer = api.post("/api/v1/orders", json=order_body(external_id))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_bulk_actions_and_notes_record_one_entry_per_order(api: Any, hub: Hub) -> None:
    a, b = _place(api, "A1"), _place(api, "B1")
    for order_id in (a, b):
        api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "price_error"})
    bulk = {"action": "release_holds", "order_ids": [a, b], "reason": "verified_with_buyer"}
    assert api.post("/api/v1/orders/bulk", json={**bulk, "expected_count": 2}
                    ).status_code == 200
    tag = {"action": "add_tag", "order_ids": [a], "tag": "vip"}
    api.post("/api/v1/orders/bulk", json={**tag, "expected_count": 1})
    api.post(f"/api/v1/orders/{b}/notes", json={"text": "买家要求周五后发货"})
    rows = [r for r in _entries(hub) if r.action != "hold.place"]
    assert [(r.action, r.order_id) for r in rows] == [
        ("order.bulk_release", a), ("order.bulk_release", b), ("order.bulk_tag", a),
        ("order.note", b)]
    assert rows[0].before["held"] is True and rows[0].after["held"] is False
    assert (rows[2].before, rows[2].after) == ({"tags": []}, {"tags": ["vip"]})
    assert rows[3].after == {"note": "买家要求周五后发货"}


def test_rules_and_ticket_moves_are_recorded_but_not_what_rules_do(
        client: Any, rules_hub: Hub) -> None:
    hub, api = rules_hub, client
    rule = api.post("/api/v1/rules", json={"definition": TICKET_RULE, "publish": True})
    assert rule.status_code == 201, rule.text
    order_id = _place(api, "T1")
    settle(hub)  # the rule opens a ticket: nobody's decision
    assert [r.action for r in _entries(hub)] == ["rule.create", "rule.publish"]
    [ticket] = api.get("/api/v1/tickets", params={"order_id": order_id}).json()["items"]
    assert api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "resolved"}
                     ).status_code == 200
    rule_id = rule.json()["id"]
    assert api.post(f"/api/v1/rules/{rule_id}/pause").status_code == 200
    rows = _entries(hub)[2:]
    assert [(r.action, r.order_id, r.before, r.after) for r in rows] == [
        ("ticket.move", order_id, {"status": "open"}, {"status": "resolved"}),
        ("rule.status", None, {"status": "enabled"}, {"status": "paused"})]


def test_a_return_taken_and_approved_by_hand_is_recorded_a_reported_one_is_not(
        api: Any, hub: Hub) -> None:
    order_id = _place(api, "R1")
    ship(api, order_id)
    reported = api.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "source": "shopee",
        "source_event_id": "SP-R-1"})
    assert reported.status_code == 201, reported.text
    assert _entries(hub) == []
    by_hand = api.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_text": "尺码偏小"}).json()
    assert api.post(f"/api/v1/returns/{by_hand['id']}/approve", json={}).status_code == 200
    rows = _entries(hub)
    assert [(r.action, r.subject_id, r.order_id) for r in rows] == [
        ("return.create", by_hand["id"], order_id), ("return.approved", by_hand["id"], order_id)]
    assert (rows[1].before, rows[1].after) == ({"status": "requested"}, {"status": "approved"})


def test_settings_people_change_are_recorded_with_before_and_after(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    source = {"kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo",
              "lead_time_days": 1}
    assert api.put("/api/v1/inventory/sources/NB", json=source).status_code in (200, 201)
    assert api.put("/api/v1/inventory/sources/NB", json={**source, "lead_time_days": 2}
                   ).status_code == 200
    pushed = api.put("/api/v1/inventory/levels", json={"source_event_id": "wms-1", "levels": [
        {"source": "NB", "sku": "DIAPER-L", "on_hand": 50}]})
    assert pushed.status_code == 200, pushed.text  # a system's report: not recorded
    made = api.post("/api/v1/promotions", json={
        "name": "直播间送围兜", "trigger_sku": "DIAPER-L", "gift_sku": "DIAPER-L",
        "gift_source": "NB", "quota": 5})
    assert made.status_code == 201, made.text
    assert api.post(f"/api/v1/promotions/{made.json()['id']}/start").status_code == 200
    assert api.put("/api/v1/reconciliations/auto-fix", json={"classes": ["missing_in_erp"]},
                   headers=admin).status_code == 200
    rows = _entries(hub)
    assert [(r.action, r.subject_id) for r in rows] == [
        ("inventory_source.put", "NB"), ("inventory_source.put", "NB"),
        ("promotion.create", made.json()["id"]), ("promotion.start", made.json()["id"]),
        ("reconciliation.auto_fix", rows[-1].subject_id)]
    assert (rows[1].before["lead_time_days"], rows[1].after["lead_time_days"]) == (1, 2)
    assert rows[-1].after == {"classes": ["missing_in_erp"]} and rows[-1].actor == "admin-token"
