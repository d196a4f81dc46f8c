"""The audit trail's foundation: a person's hold release is recorded in its transaction with
before and after; the trail refuses updates and deletes; a worker acting alone records nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import order_body

from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.audit import Actor
from orderpilot.services import audit_trail


def _entries(hub: Hub) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.seq)))


def test_a_hold_placed_and_released_through_the_api_is_in_the_trail(api: Any, hub: Hub) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    hold = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "price_error"}).json()
    api.request("DELETE", f"/api/v1/orders/{order_id}/holds/{hold['id']}",
                json={"reason": "false_alarm"})
    rows = _entries(hub)
    assert [(r.action, r.actor, r.role, r.actor_kind, r.via, r.order_id) for r in rows] == [
        ("hold.place", "ops-token", "ops", "token", "api", order_id),
        ("hold.release", "ops-token", "ops", "token", "api", order_id)]
    assert rows[0].before == {"held": False} and rows[0].after["held"] is True
    assert rows[1].before["held"] is True and rows[1].after["held"] is False


def test_nobody_acting_records_nothing_and_the_trail_is_append_only(hub: Hub) -> None:
    with audit_trail.acting_as(Actor("li.ops", "ops", "cli", "cli")):
        assert audit_trail.current_actor() is not None
    assert audit_trail.current_actor() is None
    with hub.uow() as uow:
        assert audit_trail.record(uow, hub.clock, "x", subject_type="order") is False
    with hub.uow() as uow:
        audit_trail.record(uow, hub.clock, "hold.place", subject_type="hold",
                           actor=Actor("li.ops", "ops", "cli", "cli"))
    for statement in (t.audit_log.update().values(actor="someone else"), t.audit_log.delete()):
        with pytest.raises(sa.exc.DatabaseError), hub.db.write() as conn:
            conn.execute(statement)
    assert [r.actor for r in _entries(hub)] == ["li.ops"]
