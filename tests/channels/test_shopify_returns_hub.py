"""Shopify returns end to end on a hub served over HTTP and the Shopify simulator (signed
webhooks, the token, GraphQL reads): a return pushed (returns/request, delivered twice) or
pulled by its order's update time becomes one hub return; Shopify declining it closes it; a
refund through Shopify is created exactly once, even when the worker dies between Shopify's
answer and the hub's record, and the refunds/create webhook of that refund changes nothing.
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hub_server import HubServer
from returns_hub import drain, live_hub, refund_after_a_kill

from orderpilot.benchmarks.channels import PLATFORM_CODES
from orderpilot.bootstrap import Hub
from orderpilot.services.channels.return_jobs import pull_returns
from orderpilot.simulators.external.server import SimServer

CODE = PLATFORM_CODES["shopify"]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    with live_hub("shopify", CODE, database_url, tmp_path, sim) as running:
        yield running



def _shipped_order(hub: Hub, api: TestClient, sim: SimServer, seed: int
                   ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """One paid Shopify order in the simulator, pulled into the hub and shipped there."""
    start = datetime.now(UTC) - timedelta(hours=3)
    [order_id] = sim.admin().post("/_sim/shopify/generate", json={
        "count": 1, "seed": seed, "start": start.isoformat()}).json()["external_ids"]
    with hub.uow() as uow:
        uow.channels.add_job(f"t:{order_id}", CODE, order_id, "pull", None, hub.clock())
    drain(hub)
    found = api.get("/api/v1/orders", params={"q": order_id}).json()["items"]
    assert len(found) == 1, found
    hub_id = found[0]["id"]
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        r = api.post(f"/api/v1/orders/{hub_id}/events", json={
            "type": type_, "source": source, "source_event_id": f"{hub_id}:{type_}",
            "occurred_at": datetime.now(UTC).isoformat()})
        assert r.status_code in (200, 201), r.text
    detail: dict[str, Any] = api.get(f"/api/v1/orders/{hub_id}").json()
    with hub.uow() as uow:
        account = uow.channels.account(CODE)
    assert account is not None
    [raw] = hub.channels.open(account).get_orders([order_id])
    return order_id, detail, raw


def _return(sim: SimServer, raw: dict[str, Any], **more: Any) -> str:
    item = raw["line_items"][0]
    made = sim.admin().post("/_sim/shopify/returns", json={
        "external_id": str(raw["id"]), "lines": [{"line_item_id": item["id"], "quantity": 1}],
        **more})
    assert made.status_code == 200, made.text
    return_id: str = made.json()["return_id"]
    return return_id


def _returns_of(api: TestClient, order_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/v1/returns",
                                          params={"order_id": order_id}).json()["items"]
    return items


def _refunds_made(sim: SimServer) -> int:
    records = sim.admin().get("/_sim/shopify/requests").json()["requests"]
    return sum(1 for r in records if r["method"] == "POST" and r["path"].endswith(
        "/refunds.json") and r["status_code"] < 300)


def _pull(hub: Hub) -> Any:
    now = datetime.now(UTC)
    return pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                        hub.channels, hub.clock)


def _push(sim: SimServer, server: HubServer, return_id: str, times: int = 1) -> None:
    sent = sim.admin().post("/_sim/shopify/return_push", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "return_id": return_id, "times": times})
    assert sent.json()["status"] == 200, sent.json()


def test_a_pushed_return_is_one_return_and_a_decline_closes_it(live: Any,
                                                               sim: SimServer) -> None:
    hub, server, api = live
    _, detail, raw = _shipped_order(hub, api, sim, 31)
    return_id = _return(sim, raw, reason="defective", note="stopped working")
    _push(sim, server, return_id, times=2)
    drain(hub)
    (ret,) = _returns_of(api, detail["id"])
    assert (ret["source"], ret["source_event_id"]) == (CODE, return_id)
    assert [(ln["sku"], ln["quantity"]) for ln in ret["lines"]] == [
        (raw["line_items"][0]["sku"], 1)]
    assert ret["reason_tags"] == ["quality_issue"] and ret["reason_text"] == "stopped working"
    assert _pull(hub).outcomes == {"unchanged": 1}
    assert len(_returns_of(api, detail["id"])) == 1
    sim.admin().post("/_sim/shopify/return_status", json={"return_id": return_id,
                                                          "status": "declined"})
    _push(sim, server, return_id)
    drain(hub)
    assert api.get(f"/api/v1/returns/{ret['id']}").json()["status"] == "closed"


def test_a_return_is_pulled_through_its_orders_update_time(live: Any, sim: SimServer) -> None:
    hub, _, api = live
    _, detail, raw = _shipped_order(hub, api, sim, 32)
    return_id = _return(sim, raw, reason="other", note="盒子压坏了")
    pulled = _pull(hub)
    assert pulled.error is None and pulled.outcomes == {"created": 1}, pulled.as_json()
    (ret,) = _returns_of(api, detail["id"])
    assert ret["source_event_id"] == return_id and "damaged_packaging" in ret["reason_tags"]


def _inspected(api: TestClient, ret: dict[str, Any]) -> None:
    for step in ("approve", "in-transit", "received"):
        r = api.post(f"/api/v1/returns/{ret['id']}/{step}", json={})
        assert r.status_code == 200, (step, r.text)
    r = api.post(f"/api/v1/returns/{ret['id']}/inspect", json={
        "lines": [{"sku": ln["sku"], "damaged": ln["quantity"]} for ln in ret["lines"]]})
    assert r.status_code == 200, r.text


def test_a_refund_through_shopify_is_made_once_even_after_a_kill(live: Any, sim: SimServer,
                                                                 monkeypatch: Any) -> None:
    hub, server, api = live
    order_id, detail, raw = _shipped_order(hub, api, sim, 33)
    _push(sim, server, _return(sim, raw))
    drain(hub)
    (ret,) = _returns_of(api, detail["id"])
    _inspected(api, ret)
    asked = api.post(f"/api/v1/returns/{ret['id']}/refund", json={"note": "ok"})
    assert asked.status_code == 202, asked.text
    refund_after_a_kill(hub, monkeypatch, lambda: _refunds_made(sim))
    done = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert done["status"] == "refunded" and done["channel_refund"]["status"] == "done"
    refunds = [e for e in done["timeline"] if e["type"] == "refund.succeeded"]
    assert len(refunds) == 1 and refunds[0]["data"]["via"] == "shopify"
    # Shopify's refunds/create webhook for that refund: the same return, nothing new.
    sent = sim.admin().post("/_sim/shopify/refund_push", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "external_id": order_id})
    assert sent.json()["status"] == 200, sent.json()
    drain(hub)
    assert len(_returns_of(api, detail["id"])) == 1
    again = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert len([e for e in again["timeline"] if e["type"] == "refund.succeeded"]) == 1
    assert _refunds_made(sim) == 1
