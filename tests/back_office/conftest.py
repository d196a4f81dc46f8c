"""A hub with SF Express and a generic carrier configured, its API with the carrier hooks,
and the SF simulator beside it (pushes from the simulator go into the hub in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.connectors.base import PermanentError, TransientError
from orderpilot.adapters.tables_shipments import shipments
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api import carrier_hooks
from orderpilot.entrypoints.api.app import create_app
from orderpilot.integrations import sf_express, wms
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.sf_express import simulator
from orderpilot.simulators.external.app import create_app as create_sim_app

CARRIER_SECRET = "yto-webhook-secret"
SF_PUSH_TOKEN = "sf-push-url-token-7d1c"
# Refusals and parsing do not depend on the database: they run on SQLite only, so each file
# stays fast; recording, duplicates and the poller run on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    """The shared hub fixture, with SF's simulator credentials and a YTO webhook secret."""
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             sf_partner_id=simulator.SIM_CREDENTIALS["partner_id"],
                             sf_checkword=simulator.SIM_CREDENTIALS["checkword"],
                             sf_push_token=SF_PUSH_TOKEN,
                             carrier_webhook_secrets={"yto": CARRIER_SECRET},
                             _env_file=None), clock=clock)  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


@pytest.fixture
def api(hub: Hub, tokens: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(hub, with_console=False)
    app.include_router(carrier_hooks.router)  # the lead adds it in app.py
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {tokens['ops']}"
        yield client


@pytest.fixture
def sim(api: TestClient) -> Iterator[TestClient]:
    """The SF simulator; its pushes reach `api` through the test client's transport."""
    app = create_sim_app(integrations=IntegrationRegistry.of(sf_express.INTEGRATION))
    simulator.push_transport = api._transport
    try:
        with TestClient(app) as client:
            yield client
    finally:
        simulator.push_transport = None


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def shipped_order(api: TestClient, hub: Hub, ext: str, waybill: str,
                  carrier: str = "SF") -> str:
    """An order paid, released to the warehouse and shipped with WAYBILL (the WMS says so)."""
    order_id: str = api.post("/api/v1/orders", json=order_body(ext)).json()["id"]
    for type_, source, at in (("payment.succeeded", "shopee", "10:01"),
                              ("wms.released", "wms", "11:00"),
                              ("shipment.shipped", "wms", "15:00")):
        data = {"tracking_number": waybill, "carrier": carrier} \
            if type_ == "shipment.shipped" else {}
        r = api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": type_, "source": source, "occurred_at": f"2026-11-26T{at}:00+08:00",
            "data": data})
        assert r.status_code == 201, r.text
    drain(hub)
    return order_id


def order_events(hub: Hub, order_id: str, source: str | None = None) -> list[Any]:
    query = sa.select(t.events).where(t.events.c.order_id == order_id)
    if source:
        query = query.where(t.events.c.source == source)
    with hub.db.read() as conn:
        return list(conn.execute(query.order_by(t.events.c.seq)))


def status_of(api: TestClient, order_id: str) -> str:
    return str(api.get(f"/api/v1/orders/{order_id}").json()["status"])


def quarantined(hub: Hub) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.quarantine).order_by(t.quarantine.c.seq)))


def shipment_row(hub: Hub, carrier: str, number: str) -> Any:
    with hub.db.read() as conn:
        return conn.execute(sa.select(shipments).where(
            shipments.c.carrier == carrier, shipments.c.tracking_number == number)).first()


class WmsSimFeed:
    """The connectors' http_call, straight into the WMS simulator, failing as the connectors
    fail (5xx transient, 4xx permanent, with the status)."""

    def __init__(self, sim: TestClient) -> None:
        self.sim = sim

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", json_body: Any = None, idempotency_key: str) -> Any:
        r = self.sim.request(method, f"/{connector}/{path}", json=json_body,
                             headers={"Idempotency-Key": idempotency_key})
        if r.status_code >= 500:
            raise TransientError(f"WMS answered {r.status_code}", status_code=r.status_code)
        if r.status_code >= 400:
            raise PermanentError(f"WMS answered {r.status_code}", status_code=r.status_code)
        return type("Answer", (), {"response": r.json()})()


@pytest.fixture
def wms_sim() -> Iterator[TestClient]:
    app = create_sim_app(integrations=IntegrationRegistry.of(wms.INTEGRATION))
    with TestClient(app) as client:
        yield client
