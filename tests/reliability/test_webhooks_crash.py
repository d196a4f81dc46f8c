"""kill -9 the hub while its webhook sender waits for a slow receiver's answer: the receiver
has the request, the hub does not know it. After the restart every event is delivered, none
is lost or dead, and the one cut off is sent again under the same delivery id, so a receiver
that dedupes on X-Orderpilot-Delivery (docs/webhooks.md) keeps each event once. One order's
deliveries still arrive in event order."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa

from conftest import order_body
from integration.webhook_receiver import Receiver
from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from reliability.support.backends import Backend
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli
from reliability.support.waiting import wait_for

pytestmark = pytest.mark.slow

ORDERS = 3


def statuses(db: Database) -> Counter[str]:
    with db.read() as conn:
        return Counter(conn.execute(sa.select(t.webhook_deliveries.c.status)).scalars())


def test_a_delivery_cut_off_by_kill_9_is_sent_again_under_its_id_and_none_is_lost(
        backend: Backend) -> None:
    with Receiver() as receiver:
        receiver.delay_s = 2.0  # the answer comes after the kill
        env = orderpilot_env(backend.data_dir, backend.database_url,
                             outbound_allowlist=f"http://127.0.0.1:{receiver.port}/hooks/",
                             webhook_timeout_seconds="4", webhook_lease_seconds="5")
        run_cli(env, "db", "upgrade")
        token = create_token(env, "admin", "crash", "shopee")
        server = Server(env, backend.data_dir)
        server.start()
        server.wait_ready()
        db = Database(backend.url)
        try:
            with httpx.Client(base_url=server.base_url, timeout=10,
                              headers={"Authorization": f"Bearer {token}"}) as api:
                made = api.post("/api/v1/webhooks", json={
                    "url": receiver.url, "events": ["order.placed", "payment.succeeded"]})
                assert made.status_code == 201, made.text
                order_ids = []
                for n in range(ORDERS):
                    placed = api.post("/api/v1/orders", json=order_body(f"WH-KILL-{n}"))
                    assert placed.status_code == 201, placed.text
                    order_ids.append(placed.json()["id"])
                    paid = api.post(f"/api/v1/orders/{order_ids[-1]}/events", json={
                        "type": "payment.succeeded", "source": "shopee",
                        "source_event_id": f"pay-kill-{n}",
                        "occurred_at": "2026-11-26T10:05:00+08:00"})
                    assert paid.status_code == 201, paid.text
            wait_for("the receiver to hold a delivery", lambda: receiver.received)
            server.kill()
            cut_off = receiver.received[0].headers["X-Orderpilot-Delivery"]
            receiver.delay_s = 0.0

            server.start()
            server.wait_ready()
            wait_for("every delivery to be delivered",
                     lambda: statuses(db) == Counter({"delivered": 2 * ORDERS}), timeout=90)
        finally:
            db.dispose()
            server.stop()
        got = [(r.headers["X-Orderpilot-Delivery"], json.loads(r.body)) for r in
               receiver.received]

    ids = Counter(delivery_id for delivery_id, _ in got)
    assert len(ids) == 2 * ORDERS  # every event, each under one id: nothing lost
    assert ids[cut_off] >= 2  # the request the kill cut off went again, under its id
    kept = {delivery_id: body for delivery_id, body in got}  # what a deduping receiver keeps
    for order_id in order_ids:
        types = [body["event"]["type"] for _, body in got
                 if body["event"]["order_id"] == order_id]
        # in event order, the placed one first, whatever went twice
        assert types[0] == "order.placed" and set(types) == {"order.placed",
                                                             "payment.succeeded"}
        assert types.index("payment.succeeded") > types.index("order.placed")
        assert sorted(b["event"]["type"] for b in kept.values()
                      if b["event"]["order_id"] == order_id) == ["order.placed",
                                                                  "payment.succeeded"]
