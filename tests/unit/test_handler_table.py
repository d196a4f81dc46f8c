"""Every handler is listed in one table; plugin modules join it through the same hook."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from orderpilot.domain.events import OrderEvent
from orderpilot.services import handlers
from orderpilot.services.handlers import HandlerRegistry, On, OnTimer


class FakeTriggers:
    def on_event(self, event: OrderEvent, uow: Any, clock: Any) -> None: ...
    def on_timeout(self, payload: dict[str, Any], uow: Any, clock: Any) -> None: ...
    def on_schedule(self, payload: dict[str, Any], uow: Any, clock: Any) -> None: ...


def noop(event: OrderEvent, uow: Any, clock: Any) -> None: ...


def test_the_table_holds_every_handler_once() -> None:
    registry = handlers.complete(handlers.default_registry(), FakeTriggers())  # type: ignore[arg-type]
    names = [name for rows in registry.by_event.values() for name, _ in rows]
    assert len(names) == len(set(names))
    assert set(names) == {"stats.channel_day", "inventory.allocate_placed", "promotions.claim",
                          "inventory.allocate_paid", "inventory.release", "inventory.confirm",
                          "inventory.consume", "shipments.follow", "wms.outbound_due",
                          "wms.outbound_due_paid", "wms.check_due", "rules.match",
                          "erp.queue_booking", "expectations.watch",
                          "exceptions.open_for_hold", "exceptions.resolve_for_hold",
                          "exceptions.resolve_for_cancelled", "webhooks.enqueue"}
    assert set(registry.by_timer) == {"hold.auto_release", "inventory.reservation_expiry",
                                      "inventory.pull", "inventory.sweep", "rule.timeout",
                                      "rule.schedule", "expectation.due", "exception.playbook",
                                      "exception.sweep", "inventory.stock_retry",
                                      "refused_reports.sweep", "webhooks.sweep"}
    assert registry.self_deduplicating == {"inventory.allocate_placed", "promotions.claim",
                                           "inventory.allocate_paid", "shipments.follow",
                                           "wms.outbound_due", "wms.outbound_due_paid",
                                           "wms.check_due", "rules.match",
                                           "erp.queue_booking", "expectations.watch",
                                           "exceptions.open_for_hold",
                                           "exceptions.resolve_for_hold",
                                           "exceptions.resolve_for_cancelled",
                                           "webhooks.enqueue"}
    # Rules see an event after every handler named for its type.
    assert [n for n, _ in registry.for_event("order.placed")][-1] == "rules.match"


def test_plugins_add_a_table_or_register_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    with_table = types.ModuleType("plugin_with_table")
    with_table.HANDLERS = (On("order.placed", "plugin.table", noop),)  # type: ignore[attr-defined]
    with_register = types.ModuleType("plugin_with_register")

    def register(registry: HandlerRegistry) -> None:
        registry.add([OnTimer("plugin.timer", lambda payload, uow, clock: None)])

    with_register.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plugin_with_table", with_table)
    monkeypatch.setitem(sys.modules, "plugin_with_register", with_register)
    registry = handlers.complete(handlers.default_registry(), FakeTriggers(),  # type: ignore[arg-type]
                                 ["plugin_with_table", "plugin_with_register"])
    placed = [n for n, _ in registry.for_event("order.placed")]
    assert "plugin.table" in placed and placed.index("plugin.table") < placed.index("rules.match")
    assert "plugin.timer" in registry.by_timer
