"""A unit of work whose statements each commit on their own (Database.autocommit), which the
workers' claims and polls use: on PostgreSQL a claim in it is committed the moment it is made
(no BEGIN or COMMIT round trip), and the pooled connection goes back to transactions after
it; on SQLite it is still the write transaction. And a WMS push leased by another claimer
between the look-up and the lease is not leased twice."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.wms_outbound import _claim_statements
from orderpilot.bootstrap import Hub

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _queue_event(hub: Hub, event_id: str) -> None:
    with hub.db.write() as conn:
        conn.execute(t.events.insert(), {
            "id": event_id, "order_id": None, "type": "stock.low", "source": "NB",
            "system": "wms", "source_event_id": event_id, "occurred_at": NOW,
            "recorded_at": NOW, "causation_id": None, "correlation_id": None, "payload": {}})
        conn.execute(t.outbox.insert(), {"event_id": event_id, "available_at": NOW,
                                         "order_id": None})


def _claimed_by(hub: Hub) -> str | None:
    """What another connection sees: committed claims only."""
    with hub.db.read() as conn:
        return conn.execute(sa.select(t.outbox.c.claimed_by)).scalar_one()  # type: ignore[no-any-return]


def test_a_claim_in_an_autocommit_unit_of_work_is_committed_when_made(hub: Hub) -> None:
    _queue_event(hub, "first")
    with hub.uow() as uow:  # a transaction: the claim is seen once it commits
        assert [c.item_id for c in uow.outbox.claim("w1", 10, LEASE, NOW)] == ["first"]
        assert _claimed_by(hub) is None
    assert _claimed_by(hub) == "w1"
    with hub.uow().autocommit() as uow:
        assert [c.item_id for c in uow.outbox.claim("w2", 10, LEASE, NOW + LEASE * 2)] \
            == ["first"]
        # PostgreSQL: committed at once. SQLite: still the one write transaction (its writers
        # hold the write lock), so only what the earlier commit wrote is seen.
        assert _claimed_by(hub) == ("w1" if hub.db.is_sqlite else "w2")
    assert _claimed_by(hub) == "w2"


@pytest.mark.parametrize("fails", [False, True])
def test_the_connection_goes_back_to_transactions_after_autocommit(hub: Hub,
                                                                   fails: bool) -> None:
    with pytest.raises(RuntimeError) if fails else nullcontext(), hub.db.autocommit() as conn:
        raw = conn.connection.dbapi_connection
        conn.execute(sa.select(1))
        if fails:
            raise RuntimeError("a claim that failed")
    if not hub.db.is_sqlite:
        assert raw.autocommit is False  # type: ignore[union-attr]
    # and a write that fails on any pooled connection leaves nothing behind
    for attempt in range(3):
        with pytest.raises(RuntimeError), hub.db.write() as conn:
            conn.execute(t.outbox.insert(), {"event_id": f"never-{attempt}",
                                             "available_at": NOW, "order_id": None})
            raise RuntimeError("rolled back")
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar() == 0


def test_a_wms_push_leased_meanwhile_is_not_leased_again(hub: Hub) -> None:
    with hub.db.write() as conn:
        conn.execute(t.wms_outbound.insert(), {"order_id": "o-1", "status": "due",
                                               "due_at": NOW, "attempts": 0})
    due, lease_one = _claim_statements(t.wms_outbound)
    with hub.db.read() as conn:  # one pusher looks up what is due...
        assert [r.order_id for r in conn.execute(due, {"now": NOW, "limit": 5})] == ["o-1"]
    with hub.uow() as uow:  # ...another pusher claims it meanwhile...
        assert uow.wms_outbound.claim(NOW, LEASE, 5) == [("o-1", 0)]
    with hub.db.write() as conn:  # ...so the first one's lease takes nothing
        assert conn.execute(lease_one, {"oid": "o-1", "now": NOW,
                                        "until": NOW + LEASE}).rowcount == 0
    with hub.uow() as uow:
        assert uow.wms_outbound.claim(NOW, LEASE, 5) == []
        assert uow.wms_outbound.claim(NOW + LEASE, LEASE, 5) == [("o-1", 0)]  # lease ran out




def test_a_connection_that_cannot_go_back_to_transactions_is_dropped(hub: Hub) -> None:
    """A transaction left open in the block (here a BEGIN sent by hand) keeps the driver from
    leaving autocommit: the connection is dropped, not handed to the next transaction."""
    with hub.db.autocommit() as conn:
        raw = conn.connection.dbapi_connection
        if not hub.db.is_sqlite:
            conn.exec_driver_sql("BEGIN")
    if not hub.db.is_sqlite:
        assert raw.closed  # type: ignore[union-attr]
    with hub.db.write() as conn:
        if not hub.db.is_sqlite:
            assert conn.connection.dbapi_connection is not raw
            assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
        conn.execute(t.outbox.insert(), {"event_id": "kept", "available_at": NOW,
                                         "order_id": None})
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.outbox.c.event_id)).scalars().all() == ["kept"]
