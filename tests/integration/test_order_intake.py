"""Group commit of the orders the API takes (services/order_intake.py), on SQLite and on
PostgreSQL: every order of a batch gets the answer it would have had alone, a failed write
places each order again on its own, the intake thread groups what waits for it, and the API
answers through it."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.adapters.db import UNAVAILABLE
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import Conflict, InvalidInput
from orderpilot.domain.order_changes import OrderChanged
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import order_intake, ordering
from orderpilot.services.order_intake import IntakeClosed, OrderIntake, Outcome, place_orders
from orderpilot.services.ordering import Placed


def command(external_id: str, key: str | None = None, **changes: Any) -> Any:
    body = order_body(external_id, **changes)
    return OrderIn.model_validate(body).to_command(key, body)


def stored(hub: Hub) -> list[tuple[str, int]]:
    """(external id, placed events) of every order in the database."""
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.orders.c.external_id, sa.func.count(t.events.c.id))
            .join(t.events, sa.and_(t.events.c.order_id == t.orders.c.id,
                                    t.events.c.type == "order.placed"))
            .group_by(t.orders.c.external_id).order_by(t.orders.c.external_id)).all()
    return [(r[0], r[1]) for r in rows]


class CountingUow:
    """The hub's unit of work, counting the transactions opened."""

    def __init__(self, hub: Hub) -> None:
        self.hub, self.opened = hub, 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.hub.uow()


def test_each_order_of_a_batch_gets_its_own_answer_in_one_transaction(hub: Hub) -> None:
    ordering.place_order(command("OLD", "k-old"), hub.uow, hub.clock)
    uow = CountingUow(hub)
    outcomes = place_orders([
        command("A1"),
        command("A1"),  # the same order again in the same batch: one order, a duplicate
        command("A1", total="999.00", lines=[{"sku": "DIAPER-L", "quantity": 1,
                                               "unit_price": "999.00"}]),  # changed: 409
        command("BAD-PHONE", customer={"name": "张三", "phone": "12"}),  # invalid: 422
        command("B1", "k-b"),
        command("C1", "k-b"),  # another order under B1's key
        command("C2", "k-old"),  # another order under a key used before this batch
        command("OLD"),  # placed before: a duplicate
        command("D1"),
    ], uow, hub.clock)
    assert uow.opened == 1
    a1, again, changed, bad, b1, c1, c2, old, d1 = outcomes
    assert isinstance(a1, Placed) and a1.created and a1.order is not None
    assert isinstance(again, Placed) and not again.created and again.order_id == a1.order_id
    assert isinstance(changed, OrderChanged)
    assert isinstance(bad, InvalidInput)
    assert isinstance(b1, Placed) and b1.created
    assert isinstance(c1, Conflict) and c1.code == "idempotency_key_reused"
    assert isinstance(c2, Conflict) and c2.code == "idempotency_key_reused"
    assert isinstance(old, Placed) and not old.created
    assert isinstance(d1, Placed) and d1.created
    assert stored(hub) == [("A1", 1), ("B1", 1), ("D1", 1), ("OLD", 1)]


def test_a_failed_write_rolls_the_batch_back_and_places_each_order_alone(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails inside the batch (here: the third order's) undoes the two written
    before it; each order is then placed on its own, so the others are placed once and only
    an order that fails alone too hears of its error."""
    written_in_batch: list[str] = []

    def failing_in_batch(uow: Any, cmd: Any, order: Any, fingerprint: str,
                         now: datetime) -> Placed:
        written_in_batch.append(order.external_id)
        if order.external_id == "F3":
            raise sa.exc.IntegrityError("INSERT", {}, Exception("unique key race"))
        return ordering.add_placed(uow, cmd, order, fingerprint, now)

    def failing_alone(uow: Any, cmd: Any, order: Any, fingerprint: str,
                      now: datetime) -> Placed:
        if order.external_id == "F5":
            raise RuntimeError("the disk is full")
        return real_add(uow, cmd, order, fingerprint, now)

    real_add = ordering.add_placed
    monkeypatch.setattr(order_intake, "add_placed", failing_in_batch)
    monkeypatch.setattr(ordering, "add_placed", failing_alone)
    uow = CountingUow(hub)
    outcomes = place_orders([command(f"F{i}") for i in range(1, 6)], uow, hub.clock)
    assert written_in_batch == ["F1", "F2", "F3"]
    assert uow.opened == 1 + 5  # the batch, then one each
    assert [o.created for o in outcomes if isinstance(o, Placed)] == [True] * 4
    assert isinstance(outcomes[4], RuntimeError)
    assert stored(hub) == [("F1", 1), ("F2", 1), ("F3", 1), ("F4", 1)]


def test_a_database_that_cannot_answer_fails_the_batch_at_once(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database going away mid-batch: every order of it hears the error (the API's 503,
    to be sent again with the same key) without each trying again alone, one after the other,
    while the next batches wait."""
    down = sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    def unreachable(*args: Any) -> Placed:
        raise down

    monkeypatch.setattr(order_intake, "add_placed", unreachable)
    monkeypatch.setattr(ordering, "add_placed", unreachable)
    uow = CountingUow(hub)
    outcomes = place_orders([command(f"U{i}") for i in range(4)], uow, hub.clock,
                            unavailable=lambda error: isinstance(error, UNAVAILABLE))
    assert uow.opened == 1
    assert all(isinstance(o, sa.exc.OperationalError) for o in outcomes)
    assert hub.intake.unavailable(down)  # the hub's intake is told what "unavailable" is
    assert stored(hub) == []


def test_the_intake_thread_groups_what_waits_and_answers_each_once(hub: Hub) -> None:
    entered, gate = threading.Event(), threading.Event()
    batches: list[int] = []

    def held_uow() -> Any:
        entered.set()
        gate.wait(10)  # the first batch waits until everything else is queued
        return hub.uow()

    intake = OrderIntake(held_uow, hub.clock, max_batch=30, observe=batches.append)
    answers: dict[int, list[Outcome]] = {i: [] for i in range(61)}
    for i in range(61):
        intake.submit(command(f"G{i:02d}"), answers[i].append)
        if i == 0:
            assert entered.wait(10)  # the thread is writing the first order alone
    gate.set()
    intake.close()
    assert batches == [1, 30, 30]
    assert all(len(a) == 1 and isinstance(a[0], Placed) and a[0].created
               for a in answers.values())
    assert len(stored(hub)) == 61
    with pytest.raises(IntakeClosed):
        intake.submit(command("LATE"), lambda outcome: None)


def test_closing_places_the_orders_already_handed_over(hub: Hub) -> None:
    intake = OrderIntake(hub.uow, hub.clock)
    answers: list[Outcome] = []
    for i in range(20):
        intake.submit(command(f"H{i:02d}"), answers.append)
    intake.close()
    assert len(answers) == 20 and all(isinstance(a, Placed) for a in answers)
    assert len(stored(hub)) == 20


def test_the_api_places_concurrent_orders_in_groups(api: Any, hub: Hub) -> None:
    """Twenty orders sent at once through the app: each answered as alone (201, or 200 for
    the duplicate, 409 for the changed one), in fewer transactions than orders."""
    token = api.headers["Authorization"]
    gate = threading.Event()
    real_factory = hub.intake.uow_factory

    def held_uow() -> Any:
        gate.wait(10)
        return real_factory()

    hub.intake.uow_factory = held_uow
    submitted: list[Any] = []
    real_submit = hub.intake.submit

    def counted_submit(cmd: Any, answer: Any) -> None:
        submitted.append(cmd)
        real_submit(cmd, answer)

    hub.intake.submit = counted_submit  # type: ignore[method-assign]
    bodies = [order_body(f"API{i:02d}") for i in range(18)]
    bodies += [order_body("API00"), order_body("API01", total="129.00", lines=[
        {"sku": "DIAPER-L", "quantity": 1, "unit_price": "129.00"}])]

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub",
                                     headers={"Authorization": token}) as client:
            sending = [asyncio.create_task(client.post("/api/v1/orders", json=b))
                       for b in bodies]
            while len(submitted) < len(bodies):  # every request handed to the intake
                await asyncio.sleep(0.005)
            gate.set()
            return list(await asyncio.gather(*sending))

    answers = asyncio.run(send_all())
    codes = [r.status_code for r in answers]
    # Which of two requests for one order came first is the event loop's choice.
    assert codes[2:18] == [201] * 16
    assert sorted([codes[0], codes[18]]) == [200, 201]
    assert answers[0].json()["id"] == answers[18].json()["id"]
    assert {answers[0].json()["duplicate"], answers[18].json()["duplicate"]} == {True, False}
    assert sorted([codes[1], codes[19]]) == [201, 409]
    refused = answers[1] if codes[1] == 409 else answers[19]
    assert refused.json()["error"]["code"] == "order_changed"
    metrics = api.get("/metrics").text
    batches = next(line for line in metrics.splitlines()
                   if line.startswith("orderpilot_order_intake_batch_orders_count"))
    assert float(batches.split()[-1]) <= 2  # what was waiting, then the rest together
    assert len(stored(hub)) == 18


def test_after_close_the_api_answers_503_with_retry_after(api: Any, hub: Hub) -> None:
    hub.intake.close()
    r = api.post("/api/v1/orders", json=order_body("LATE"))
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    assert r.json()["error"]["code"] == "shutting_down"
    assert stored(hub) == []
