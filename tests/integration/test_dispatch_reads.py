"""What the dispatcher reads less often, and why it still reads right (both databases):

- an order read twice in one transaction is read from the database once, and a copy changed
  without saving, a save, or a rolled-back savepoint never leaks into the next read;
- the configuration every event reads (active webhooks, expectations, the channel's stock
  strategy, the stock sources) is read once for a claimed batch, and a subscription committed
  before an event is recorded is always seen by it.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from conftest import order_body
from integration.statement_log import statement_log
from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_webhooks import webhook_subscriptions
from orderpilot.bootstrap import Hub
from orderpilot.domain.commands import PlaceHold
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering


def place(hub: Hub, external_id: str) -> str:
    body = order_body(external_id)
    return ordering.place_order(OrderIn.model_validate(body).to_command(external_id, body),
                                hub.uow, hub.clock).order_id


def tables(log: list[str]) -> Counter[str]:
    """The tables the SELECTs of LOG read (counted by their first table), and the UPDATEs (as
    ``update <table>``)."""
    seen: Counter[str] = Counter()
    for text in log:
        if text.startswith("select") and " from " in text:
            seen[text.split(" from ", 1)[1].split()[0]] += 1
        elif text.startswith("update "):
            seen[f"update {text.split()[1]}"] += 1
    return seen


def test_an_order_is_read_once_a_transaction_and_a_change_never_leaks(hub: Hub) -> None:
    order_id = place(hub, "READS-1")
    with statement_log(hub) as log, hub.uow() as uow:
        first = uow.orders.get(order_id)
        assert first is not None
        first.tags.append("changed-but-not-saved")
        first.lines.clear()
        second = uow.orders.get(order_id)
        assert second is not None and second is not first
        version = second.version
        assert second.tags == [] and len(second.lines) == 1
        seen = tables(log)
        assert seen["orders"] == 1 and seen["order_lines"] == 1  # the second read: no SQL

        # a save forgets it: the next read is the saved order, read again
        second.tags.append("saved")
        uow.orders.save(second, hub.clock())
        third = uow.orders.get(order_id)
        assert third is not None and third.tags == ["saved"] and third.version == version + 1
        assert tables(log)["orders"] == 2

        # a rolled-back savepoint forgets what was read inside it
        with pytest.raises(RuntimeError), uow.savepoint():
            inside = uow.orders.get(order_id)
            assert inside is not None
            inside.tags.append("rolled back")
            uow.orders.save(inside, hub.clock())
            reread = uow.orders.get(order_id)
            assert reread is not None and reread.tags == ["saved", "rolled back"]
            raise RuntimeError("undo")
        after = uow.orders.get(order_id)
        assert after is not None and after.tags == ["saved"] and after.version == version + 1


def test_an_order_read_for_update_goes_to_the_database(hub: Hub) -> None:
    order_id = place(hub, "READS-2")
    with statement_log(hub) as log, hub.uow() as uow:
        uow.orders.get(order_id)
        locked = uow.orders.get(order_id, for_update=True)
        assert locked is not None
        assert tables(log)["orders"] == 2


def test_a_hold_placed_then_read_in_the_same_transaction_is_seen(hub: Hub) -> None:
    """The service layer's own path: place a hold (load, change, save), then read again."""
    order_id = place(hub, "READS-3")
    ordering.place_hold(PlaceHold(order_id, "address_check", "check the address", "tester"),
                        hub.uow, hub.clock)
    with hub.uow() as uow:
        uow.orders.get(order_id)
        again = uow.orders.get(order_id)
        assert again is not None and again.held and again.holds[0].reason == "address_check"


def test_a_batch_reads_its_configuration_once(hub: Hub) -> None:
    for n in range(6):
        place(hub, f"READS-B{n}")
    dispatcher = hub.dispatcher("reads")
    with statement_log(hub) as log:
        delivered = dispatcher.run_once()
    assert delivered >= 6
    # once a claimed batch (SQLite: one; PostgreSQL: an order's later events come in later
    # batches, each claim an UPDATE of the outbox), never once an event
    seen = tables(log)
    batches = seen["update outbox"] if hub.db.dialect == "postgresql" else 1
    assert batches < delivered
    assert 1 <= seen["webhook_subscriptions"] <= batches
    assert 1 <= seen["expectations"] <= batches
    assert 1 <= seen["inventory_strategies"] <= batches


def test_a_subscription_made_before_an_event_is_recorded_gets_it(hub: Hub) -> None:
    """Even with the batch's reads shared: a subscription committed between two batches, and
    one committed after one order was placed but before the next."""
    dispatcher = hub.dispatcher("reads")
    first = place(hub, "READS-S1")
    while dispatcher.run_once():
        pass
    with hub.uow() as uow:
        uow.webhooks.add_subscription({
            "id": "sub-1", "url": "http://127.0.0.1:9/hook", "events": ["order.placed"],
            "secret": "s" * 32, "description": "", "status": "active",
            "created_at": hub.clock(), "created_by": "test"})
    second = place(hub, "READS-S2")
    while dispatcher.run_once():
        pass
    with hub.db.read() as conn:
        keys = {r.order_key for r in conn.execute(sa.select(t.webhook_deliveries.c.order_key))}
        assert conn.execute(sa.select(sa.func.count())
                            .select_from(webhook_subscriptions)).scalar() == 1
    assert second in keys and first not in keys
