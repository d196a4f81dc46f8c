"""A Youzan 维权 (after-sales request) reaches the hub as one return, through the signed
trade_refund_* push and the channel worker: lines by SKU, the reason classified, a replayed
push changing nothing. Refunding it at the hub pays it through Youzan (youzan.trade.refund.agree)
exactly once, recorded by the simulator; a buyer who withdraws at Youzan closes the hub's
return. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from returns_hub import live_hub

from orderpilot.bootstrap import Hub
from orderpilot.domain.channel_orders import Account
from orderpilot.integrations.youzan import PLATFORM, refund_calls
from orderpilot.integrations.youzan.mapping import lines_by_oid
from orderpilot.integrations.youzan.simulator import SIM_CREDENTIALS, SIM_SHOP_ID
from orderpilot.services.channels.return_jobs import pull_returns
from orderpilot.simulators.external.server import SimServer

CODE = "youzan-mini"
AGREE = "/api/youzan.trade.refund.agree/"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    with live_hub("youzan", CODE, database_url, tmp_path, sim, with_console=True) as running:
        yield running


def _drain(hub: Hub) -> None:
    worker = hub.channel_worker("e2e")
    for _ in range(20):
        if not worker.run_once():
            return


def _shipped_order(hub: Hub, server: Any, api: TestClient,
                   sim: SimServer) -> tuple[str, str, dict[str, Any]]:
    """A Youzan trade pushed, fetched and shipped in the hub: (order id, tid, trade)."""
    admin = sim.admin()
    start = datetime.now(UTC) - timedelta(hours=2)
    [tid] = admin.post("/_sim/youzan/generate", json={
        "count": 1, "seed": 21, "start": start.isoformat(), "spread_seconds": 60}
    ).json()["external_ids"]
    admin.post("/_sim/youzan/status", json={"external_id": tid,
                                            "status": "WAIT_BUYER_CONFIRM_GOODS"})
    sent = admin.post("/_sim/youzan/push", json={"hook_url": f"{server.url}/hooks/{CODE}",
                                                 "external_id": tid})
    assert sent.json()["status"] == 200, sent.json()
    _drain(hub)
    [found] = api.get("/api/v1/orders", params={"q": tid}).json()["items"]
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        r = api.post(f"/api/v1/orders/{found['id']}/events", json={
            "type": type_, "source": source, "source_event_id": f"{tid}:{type_}",
            "occurred_at": datetime.now(UTC).isoformat()})
        assert r.status_code in (200, 201), r.text
    assert api.get(f"/api/v1/orders/{found['id']}").json()["status"] == "shipped"
    return found["id"], tid, _trade(sim, tid)


def _account(sim: SimServer) -> Account:
    return Account(code=CODE, platform="youzan", shop_id=SIM_SHOP_ID, region="",
                   base_url=f"{sim.url}/youzan", credentials=dict(SIM_CREDENTIALS))


def _trade(sim: SimServer, tid: str) -> dict[str, Any]:
    """The trade as Youzan gives it (its oids name the refunded lines)."""
    with httpx.Client() as http:
        [raw] = PLATFORM.client(_account(sim), http,
                                lambda: datetime.now(UTC)).get_orders([tid])
    return raw


def _ask_refund(sim: SimServer, tid: str, trade: dict[str, Any], reason: int,
                desc: str) -> dict[str, Any]:
    line = trade["full_order_info"]["orders"][0]
    made = sim.admin().post("/_sim/youzan/refunds", json={
        "external_id": tid, "lines": [{"oid": str(line["oid"]), "quantity": 1}],
        "reason": reason, "desc": desc, "demand": 2})
    assert made.status_code == 200, made.text
    refund: dict[str, Any] = made.json()["refund"]
    return refund


def _push_refund(sim: SimServer, server: Any, refund_id: str, times: int = 1) -> None:
    sent = sim.admin().post("/_sim/youzan/refund_push", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "refund_id": refund_id, "times": times})
    assert sent.json()["status"] == 200, sent.json()


def _returns(api: TestClient, order_id: str) -> list[dict[str, Any]]:
    listed = api.get("/api/v1/returns", params={"order_id": order_id})
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


def _agree_calls(sim: SimServer) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.admin().get("/_sim/youzan/requests").json()["requests"]
    return [r for r in rows if AGREE in r["path"]]


def test_a_pushed_refund_is_one_return_and_is_paid_through_youzan_once(
        live: Any, sim: SimServer) -> None:
    hub, server, api = live
    order_id, tid, trade = _shipped_order(hub, server, api, sim)
    refund = _ask_refund(sim, tid, trade, reason=16, desc="盒子压坏了")
    _push_refund(sim, server, refund["refund_id"], times=2)  # Youzan's retry: same msg_id
    _drain(hub)
    _push_refund(sim, server, refund["refund_id"])  # and the same message once more
    _drain(hub)
    [listed] = _returns(api, order_id)
    ret = api.get(f"/api/v1/returns/{listed['id']}").json()
    oid = str(trade["full_order_info"]["orders"][0]["oid"])
    sku = lines_by_oid(trade)[oid][0]
    assert (ret["source"], ret["source_event_id"]) == (CODE, refund["refund_id"])
    assert [(ln["sku"], ln["quantity"]) for ln in ret["lines"]] == [(sku, 1)]
    # code 16 (商品破损/少件) is no single tag: its words and the buyer's were classified
    assert ret["reasons_from"] == "keywords", ret
    assert "damaged_packaging" in ret["reason_tags"]
    assert "盒子压坏了" in ret["reason_text"] and "商品破损/少件" in ret["reason_text"]
    requested = [e for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
                 if e["type"] == "return.requested"]
    assert len(requested) == 1 and requested[0]["payload"]["data"]["return_id"] == ret["id"]

    rid = ret["id"]
    for move, body in (("approve", {}), ("received", {}),
                       ("inspect", {"lines": [{"sku": sku, "restockable": 0, "damaged": 1}]})):
        moved = api.post(f"/api/v1/returns/{rid}/{move}", json=body)
        assert moved.status_code == 200, moved.text
    asked = api.post(f"/api/v1/returns/{rid}/refund", json={})
    assert asked.status_code == 202, asked.text
    assert asked.json()["channel_refund"]["status"] == "pending"
    _drain(hub)
    again = api.post(f"/api/v1/returns/{rid}/refund", json={})
    assert again.status_code == 409, again.text  # refunded already: nothing is asked again
    _drain(hub)
    done = api.get(f"/api/v1/returns/{rid}").json()
    assert done["status"] == "refunded" and done["channel_refund"]["status"] == "done"
    [paid] = [e for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
              if e["type"] == "refund.succeeded"]
    assert paid["payload"]["data"]["via"] == "youzan"
    _push_refund(sim, server, refund["refund_id"])  # Youzan's trade_refund_RefundSuccess
    _drain(hub)
    assert api.get(f"/api/v1/returns/{rid}").json()["status"] == "refunded"
    assert len(_returns(api, order_id)) == 1
    [call] = _agree_calls(sim)
    assert call["body"]["refund_id"] == refund["refund_id"]
    assert call["query"]["access_token"] == "***"


def test_a_withdrawn_refund_closes_the_hub_return_and_is_never_paid(
        live: Any, sim: SimServer) -> None:
    hub, server, api = live
    order_id, tid, trade = _shipped_order(hub, server, api, sim)
    refund = _ask_refund(sim, tid, trade, reason=15, desc="")
    _push_refund(sim, server, refund["refund_id"])
    _drain(hub)
    [ret] = _returns(api, order_id)
    assert ret["reason_tags"] == ["wrong_item"] and ret["status"] == "requested"
    sim.admin().post("/_sim/youzan/refund_status", json={"refund_id": refund["refund_id"],
                                                         "status": "CLOSED"})
    _push_refund(sim, server, refund["refund_id"])
    _drain(hub)
    [closed] = _returns(api, order_id)
    assert closed["status"] == "closed"
    assert _agree_calls(sim) == []


def test_a_refund_paid_at_youzan_first_is_recorded_without_a_call(
        live: Any, sim: SimServer) -> None:
    """The seller paid it in Youzan's own console (or the hub's call was answered after a
    kill -9): the refund job reads SUCCESS and sends nothing."""
    hub, server, api = live
    order_id, tid, trade = _shipped_order(hub, server, api, sim)
    refund = _ask_refund(sim, tid, trade, reason=105, desc="")
    _push_refund(sim, server, refund["refund_id"])
    _drain(hub)
    [ret] = _returns(api, order_id)
    sku = ret["lines"][0]["sku"]
    for move, body in (("approve", {}), ("received", {}),
                       ("inspect", {"lines": [{"sku": sku, "restockable": 0, "damaged": 1}]})):
        assert api.post(f"/api/v1/returns/{ret['id']}/{move}", json=body).status_code == 200
    assert api.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 202
    with httpx.Client() as http:
        youzan = PLATFORM.client(_account(sim), http, lambda: datetime.now(UTC))
        assert refund_calls.agree_refund(youzan, refund["refund_id"]).sent  # Youzan's first
    before = len(_agree_calls(sim))
    _drain(hub)
    done = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert done["status"] == "refunded" and len(_agree_calls(sim)) == before == 1


def test_a_refund_not_pushed_is_pulled_by_update_time(live: Any, sim: SimServer) -> None:
    hub, server, api = live
    order_id, tid, trade = _shipped_order(hub, server, api, sim)
    refund = _ask_refund(sim, tid, trade, reason=112, desc="")
    now = datetime.now(UTC)
    pulled = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(minutes=1), hub.uow,
                          hub.channels, hub.clock, sleep=lambda s: None)
    assert pulled.error is None and pulled.outcomes == {"created": 1}, pulled.as_json()
    [ret] = _returns(api, order_id)
    assert ret["source_event_id"] == refund["refund_id"]
    assert ret["reason_tags"] == ["no_reason_7_days"]
    again = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(minutes=1), hub.uow,
                         hub.channels, hub.clock, sleep=lambda s: None)
    assert again.outcomes == {"unchanged": 1} and len(_returns(api, order_id)) == 1
