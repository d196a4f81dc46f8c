"""Cancelling a Shopee order from the hub (services/cancellation.py) end to end, on a hub served
over HTTP and the Shopee simulator (real path, signature, token): the order is cancelled at
Shopee exactly once, even when the worker dies between Shopee's answer and the hub's record;
the hub then shows it cancelled with its stock released and its exceptions resolved. Shopee's
refusal (the order shipped there meanwhile) is shown and leaves the order held; a reason
Shopee does not take is refused before anything is asked. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from returns_hub import drain, live_hub

from orderpilot.adapters import tables as t
from orderpilot.benchmarks.channels import PLATFORM_CODES
from orderpilot.bootstrap import Hub
from orderpilot.services.channels import cancel_jobs
from orderpilot.services.channels.worker import ChannelWorker, WorkerSettings
from orderpilot.simulators.external.server import SimServer

CODE = PLATFORM_CODES["shopee"]
CANCEL = "/shopee/api/v2/order/cancel_order"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    with live_hub("shopee", CODE, database_url, tmp_path, sim) as running:
        yield running


def _in_hub(hub: Hub, api: TestClient, sim: SimServer, seed: int) -> tuple[str, str]:
    """A READY_TO_SHIP Shopee order pulled into the hub: (order_sn, the hub's order id)."""
    admin = sim.admin()
    order_sn = admin.post("/_sim/shopee/generate", json={
        "count": 1, "seed": seed,
        "start": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}).json()["external_ids"][0]
    admin.post("/_sim/shopee/status", json={"external_id": order_sn, "status": "READY_TO_SHIP"})
    with hub.uow() as uow:
        uow.channels.add_job(f"t:{order_sn}", CODE, order_sn, "pull", None, hub.clock())
    drain(hub)
    found = api.get("/api/v1/orders", params={"q": order_sn}).json()["items"]
    assert len(found) == 1, found
    return order_sn, str(found[0]["id"])


def _cancels(sim: SimServer, status: int | None = 200) -> int:
    calls = sim.admin().get("/_sim/shopee/look-ups").json()["look_ups"]
    return sum(1 for c in calls if c["path"] == CANCEL
               and (status is None or c["status_code"] == status))


def _at_shopee(hub: Hub, order_sn: str) -> str:
    with hub.uow() as uow:
        account = uow.channels.account(CODE)
    assert account is not None
    return str(hub.channels.open(account).get_orders([order_sn])[0]["order_status"])


def _active_holds(api: TestClient, order_id: str) -> list[str]:
    return sorted(h["reason"] for h in api.get(f"/api/v1/orders/{order_id}").json()["holds"]
                  if h["released_at"] is None)


def _job(hub: Hub, order_id: str) -> tuple[str, str | None]:
    j = t.channel_jobs.c
    with hub.db.read() as conn:
        row = conn.execute(sa.select(j.status, j.last_error)
                           .where(j.key == f"cancel:{order_id}")).one()
    return str(row.status), row.last_error


def _settled(hub: Hub, order_id: str) -> list[tuple[str, str, str]]:
    """The order's exceptions, once the dispatcher has handled every event."""
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass
    e = t.exceptions.c
    with hub.db.read() as conn:
        return sorted((r.reason, r.status, r.resolution or "") for r in conn.execute(
            sa.select(e.reason, e.status, e.resolution).where(e.order_id == order_id)))


def test_a_cancel_through_shopee_happens_once_even_after_a_kill(
        live: Any, sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, _, api = live
    order_sn, order_id = _in_hub(hub, api, sim, 41)
    asked = api.post(f"/api/v1/orders/{order_id}/cancel",
                     json={"reason": "out_of_stock", "note": "缺货，停产"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["outcome"] == "asked" and asked.json()["through"] == "shopee"
    assert _active_holds(api, order_id) == ["cancel_requested"]
    again = api.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "out_of_stock"})
    assert again.status_code == 202 and again.json()["outcome"] == "asked"
    # The worker dies after Shopee's answer, before the hub records the cancellation.
    real = cancel_jobs._record

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("kill -9")

    monkeypatch.setattr(cancel_jobs, "_record", killed)
    worker = ChannelWorker(hub.uow, hub.channels, hub.clock, "dies",
                           WorkerSettings(lease=timedelta(seconds=1)))
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()
    assert _cancels(sim) == 1 and _at_shopee(hub, order_sn) == "CANCELLED"
    monkeypatch.setattr(cancel_jobs, "_record", real)
    time.sleep(1.2)  # the dead worker's lease ends
    drain(hub)
    assert _cancels(sim, None) == 1  # read again, found cancelled, not asked twice
    assert _job(hub, order_id) == ("done", None)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert detail["status"] == "cancelled" and _active_holds(api, order_id) == []
    timeline = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    cancelled = [e for e in timeline if e["type"] == "order.cancelled"]
    assert len(cancelled) == 1
    assert cancelled[0]["payload"]["data"]["via"] == "shopee"
    assert cancelled[0]["payload"]["data"]["at_platform"] == "already"
    assert _settled(hub, order_id) == [("cancel_requested", "resolved", "cancelled")]
    # Shopee's own status (pulled later) changes nothing more.
    with hub.uow() as uow:
        uow.channels.add_job(f"t2:{order_sn}", CODE, order_sn, "pull", None, hub.clock())
    drain(hub)
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "cancelled"


def test_shopee_refusing_the_cancel_is_shown_and_the_order_stays_held(
        live: Any, sim: SimServer) -> None:
    hub, _, api = live
    order_sn, order_id = _in_hub(hub, api, sim, 42)
    sim.admin().post("/_sim/shopee/status", json={"external_id": order_sn, "status": "SHIPPED"})
    assert api.post(f"/api/v1/orders/{order_id}/cancel",
                    json={"reason": "customer_request"}).status_code == 202
    drain(hub)
    status, error = _job(hub, order_id)
    assert status == "dead" and error is not None and "Can not cancel this order" in error
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] != "cancelled"
    assert _active_holds(api, order_id) == ["cancel_requested"]
    assert _cancels(sim, None) == 1 and _cancels(sim) == 0


def test_a_reason_shopee_does_not_take_is_refused_before_asking(
        live: Any, sim: SimServer) -> None:
    hub, _, api = live
    _, order_id = _in_hub(hub, api, sim, 43)
    r = api.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "suspected_fraud"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "cancel_at_platform"
    assert "out_of_stock, customer_request, undeliverable" in r.json()["error"]["message"]
    assert _active_holds(api, order_id) == [] and _cancels(sim, None) == 0
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.channel_jobs).where(
            t.channel_jobs.c.origin == "cancel")).scalar_one() == 0
