"""Lazada reverse orders end to end on a hub served over HTTP and the Lazada simulator (real
paths, signatures, paging): a reverse order pushed (message type 10, delivered twice) or pulled
by update time becomes one hub return; the buyer cancelling at Lazada closes it; a refund
through Lazada sends agreeRefund exactly once, even when the worker dies between Lazada's
answer and the hub's record. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from returns_hub import drain, live_hub, refund_after_a_kill

from orderpilot.benchmarks.channels import PLATFORM_CODES
from orderpilot.bootstrap import Hub
from orderpilot.services.channels.return_jobs import pull_returns
from orderpilot.simulators.external.server import SimServer

CODE = PLATFORM_CODES["lazada"]
UPDATE = "/lazada/order/reverse/return/update"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    with live_hub("lazada", CODE, database_url, tmp_path, sim) as running:
        yield running



def _shipped_order(hub: Hub, api: TestClient, sim: SimServer, seed: int
                   ) -> tuple[str, dict[str, Any]]:
    """One Lazada order in the simulator, pulled into the hub and shipped there."""
    start = datetime.now(UTC) - timedelta(hours=3)
    [order_id] = sim.admin().post("/_sim/lazada/generate", json={
        "count": 1, "seed": seed, "start": start.isoformat()}).json()[
        "external_ids"]
    sim.admin().post("/_sim/lazada/status", json={"external_id": order_id, "status": "pending"})
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
    return order_id, detail


def _reverse(sim: SimServer, order_id: str, **more: Any) -> str:
    made = sim.admin().post("/_sim/lazada/reverse_orders",
                            json={"external_id": order_id, **more})
    assert made.status_code == 200, made.text
    reverse_id: str = made.json()["reverse_order_id"]
    return reverse_id


def _returns_of(api: TestClient, order_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/v1/returns",
                                          params={"order_id": order_id}).json()["items"]
    return items


def _updates(sim: SimServer) -> int:
    records = sim.admin().get("/_sim/lazada/requests").json()["requests"]
    return sum(1 for r in records if r["path"] == UPDATE)


def _pull(hub: Hub) -> Any:
    now = datetime.now(UTC)
    return pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                        hub.channels, hub.clock)


def test_a_pushed_reverse_order_is_one_return_and_a_cancel_closes_it(live: Any,
                                                                     sim: SimServer) -> None:
    hub, server, api = live
    order_id, detail = _shipped_order(hub, api, sim, 21)
    line = detail["lines"][0]
    reverse_id = _reverse(sim, order_id, reason_text="盒子压坏了", item_ids=None)
    sent = sim.admin().post("/_sim/lazada/reverse_push", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "reverse_order_id": reverse_id, "times": 2})
    assert sent.json()["status"] == 200, sent.json()
    drain(hub)
    (ret,) = _returns_of(api, detail["id"])
    assert (ret["source"], ret["source_event_id"]) == (CODE, reverse_id)
    units = {ln["sku"]: ln["quantity"] for ln in detail["lines"]}
    assert {ln["sku"]: ln["quantity"] for ln in ret["lines"]} == units
    assert line["sku"] in units
    assert ret["reason_text"] == "盒子压坏了" and "damaged_packaging" in ret["reason_tags"]
    # Pulled as well: still one return.
    assert _pull(hub).outcomes == {"unchanged": 1}
    assert len(_returns_of(api, detail["id"])) == 1
    # The buyer cancels at Lazada: the hub's return is rejected and closed.
    sim.admin().post("/_sim/lazada/reverse_status", json={
        "reverse_order_id": reverse_id, "reverse_status": "REQUEST_CANCEL"})
    sim.admin().post("/_sim/lazada/reverse_push", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "reverse_order_id": reverse_id})
    drain(hub)
    assert api.get(f"/api/v1/returns/{ret['id']}").json()["status"] == "closed"


def test_a_reverse_order_is_pulled_by_update_time(live: Any, sim: SimServer) -> None:
    hub, _, api = live
    order_id, detail = _shipped_order(hub, api, sim, 22)
    first = detail["lines"][0]
    reverse_id = _reverse(sim, order_id, reason_text="wrong colour")
    pulled = _pull(hub)
    assert pulled.error is None and pulled.outcomes == {"created": 1}, pulled.as_json()
    assert _pull(hub).outcomes == {"unchanged": 1}
    (ret,) = _returns_of(api, detail["id"])
    assert ret["source_event_id"] == reverse_id and ret["reason_text"] == "wrong colour"
    assert first["sku"] in {ln["sku"] for ln in ret["lines"]}


def _inspected(api: TestClient, ret: dict[str, Any]) -> None:
    for step in ("approve", "in-transit", "received"):
        r = api.post(f"/api/v1/returns/{ret['id']}/{step}", json={})
        assert r.status_code == 200, (step, r.text)
    r = api.post(f"/api/v1/returns/{ret['id']}/inspect", json={
        "lines": [{"sku": ln["sku"], "damaged": ln["quantity"]} for ln in ret["lines"]]})
    assert r.status_code == 200, r.text


def test_a_refund_through_lazada_is_sent_once_even_after_a_kill(live: Any, sim: SimServer,
                                                                monkeypatch: Any) -> None:
    hub, _, api = live
    order_id, detail = _shipped_order(hub, api, sim, 23)
    _reverse(sim, order_id)
    assert _pull(hub).outcomes == {"created": 1}
    (ret,) = _returns_of(api, detail["id"])
    _inspected(api, ret)
    asked = api.post(f"/api/v1/returns/{ret['id']}/refund", json={"note": "ok"})
    assert asked.status_code == 202, asked.text
    refund_after_a_kill(hub, monkeypatch, lambda: _updates(sim))
    done = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert done["status"] == "refunded" and done["channel_refund"]["status"] == "done"
    refunds = [e for e in done["timeline"] if e["type"] == "refund.succeeded"]
    assert len(refunds) == 1 and refunds[0]["data"]["via"] == "lazada"
    assert _updates(sim) == 1
    assert api.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 409
    assert _updates(sim) == 1

