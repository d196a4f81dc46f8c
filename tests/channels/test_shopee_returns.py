"""Shopee returns end to end on a hub served over HTTP and the Shopee simulator (real paths,
signatures, paging): a return pushed (the order status push TO_RETURN) or pulled by update
time becomes one hub return with its lines and reasons; a return whose order is not in the hub
yet waits and then lands; an over-quantity return is quarantined with the reason and can be
replayed; a refund through Shopee confirms at Shopee exactly once, even when the worker dies
between Shopee's answer and the hub's record; Shopee's refusal is shown and the return stays
inspected. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hub_server import HubServer
from returns_hub import drain, live_hub, refund_after_a_kill

from orderpilot.adapters import tables as t
from orderpilot.adapters.channels.base import dumps
from orderpilot.benchmarks.channels import PLATFORM_CODES
from orderpilot.bootstrap import Hub
from orderpilot.services.channels.return_jobs import SCAN_ORIGIN, SCAN_TRIES, pull_returns
from orderpilot.simulators.external.server import SimServer

CODE = PLATFORM_CODES["shopee"]
CONFIRM = "/shopee/api/v2/returns/confirm"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    with live_hub("shopee", CODE, database_url, tmp_path, sim) as running:
        yield running



def _order(sim: SimServer, seed: int) -> dict[str, Any]:
    """One completed Shopee order in the simulator (not yet in the hub)."""
    admin = sim.admin()
    start = datetime.now(UTC) - timedelta(hours=3)
    order_sn = admin.post("/_sim/shopee/generate", json={
        "count": 1, "seed": seed, "start": start.isoformat()}).json()["external_ids"][0]
    admin.post("/_sim/shopee/status", json={"external_id": order_sn, "status": "COMPLETED"})
    return {"order_sn": order_sn}


def _fetch_and_ship(hub: Hub, api: TestClient, order_sn: str) -> dict[str, Any]:
    """The order pulled into the hub, shipped there (WMS and carrier events); its detail."""
    with hub.uow() as uow:
        account = uow.channels.account(CODE)
    assert account is not None
    with hub.uow() as uow:
        uow.channels.add_job(f"t:{order_sn}", CODE, order_sn, "pull", None, hub.clock())
    drain(hub)
    found = api.get("/api/v1/orders", params={"q": order_sn}).json()["items"]
    assert len(found) == 1, found
    order_id = found[0]["id"]
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        r = api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": type_, "source": source, "source_event_id": f"{order_id}:{type_}",
            "occurred_at": datetime.now(UTC).isoformat()})
        assert r.status_code in (200, 201), r.text
    detail: dict[str, Any] = api.get(f"/api/v1/orders/{order_id}").json()
    return detail


def _raw_order(hub: Hub, order_sn: str) -> dict[str, Any]:
    with hub.uow() as uow:
        account = uow.channels.account(CODE)
    assert account is not None
    raw: dict[str, Any] = hub.channels.open(account).get_orders([order_sn])[0]
    return raw


def _shopee_return(raw_order: dict[str, Any], return_sn: str, *, units: int = 1,
                   reason: str = "WRONG_ITEM", text: str = "",
                   status: str = "REQUESTED") -> dict[str, Any]:
    """A return in v2.returns.get_return_detail's shape for the order's first item."""
    item = raw_order["item_list"][0]
    now = int(time.time())
    return {"return_sn": return_sn, "order_sn": raw_order["order_sn"], "status": status,
            "reason": reason, "text_reason": text, "refund_amount": 12.5,
            "currency": raw_order["currency"], "create_time": now - 60, "update_time": now,
            "due_date": now + 86_400, "needs_logistics": True,
            "user": {"username": "b***r", "email": "****@shopee.com", "portrait": ""},
            "item": [{"item_id": item["item_id"], "model_id": item["model_id"],
                      "name": item["item_name"], "images": [], "amount": units,
                      "item_price": item["model_discounted_price"], "is_add_on_deal": False,
                      "is_main_item": False, "add_on_deal_id": 0,
                      "item_sku": item.get("item_sku", ""),
                      "variation_sku": item.get("model_sku", "")}]}


def _put_returns(sim: SimServer, raws: list[dict[str, Any]]) -> None:
    sim.admin().post("/_sim/shopee/returns", content=dumps({"returns": raws}),
                     headers={"content-type": "application/json"})


def _returns_of(api: TestClient, order_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/v1/returns",
                                          params={"order_id": order_id}).json()["items"]
    return items


def _confirms(sim: SimServer) -> int:
    calls = sim.admin().get("/_sim/shopee/look-ups").json()["look_ups"]
    return sum(1 for c in calls if c["path"] == CONFIRM and c["status_code"] == 200)


def _landed(hub: Hub, api: TestClient, sim: SimServer, server: HubServer, seed: int,
            return_sn: str, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    order = _order(sim, seed)
    detail = _fetch_and_ship(hub, api, order["order_sn"])
    raw = _shopee_return(_raw_order(hub, order["order_sn"]), return_sn, **kw)
    _put_returns(sim, [raw])
    sent = sim.admin().post("/_sim/shopee/push_return", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "return_sn": return_sn, "times": 2})
    assert 200 <= sent.json()["status"] < 300, sent.json()
    drain(hub)
    return detail, raw


def test_a_pushed_return_is_one_return_with_its_lines_and_reasons(live: Any,
                                                                   sim: SimServer) -> None:
    hub, server, api = live
    detail, raw = _landed(hub, api, sim, server, 11, "2611260001RR", text="发错颜色了")
    returns = _returns_of(api, detail["id"])
    assert len(returns) == 1, returns
    ret = returns[0]
    sku = detail["lines"][0]["sku"]
    assert (ret["source"], ret["source_event_id"]) == (CODE, "2611260001RR")
    assert [(ln["sku"], ln["quantity"]) for ln in ret["lines"]] == [(sku, 1)]
    assert ret["reason_tags"] == ["wrong_item"] and ret["reasons_from"] == "given"
    assert ret["reason_text"] == "发错颜色了" and ret["status"] == "requested"
    # Pushed again (another status push): still one return.
    sim.admin().post("/_sim/shopee/push_return", json={
        "hook_url": f"{server.url}/hooks/{CODE}", "return_sn": "2611260001RR"})
    drain(hub)
    assert len(_returns_of(api, detail["id"])) == 1
    # The buyer cancels at Shopee: the hub's return is rejected and closed, with a note.
    sim.admin().post("/_sim/shopee/return_status", json={"return_sn": "2611260001RR",
                                                         "status": "CANCELLED"})
    now = datetime.now(UTC)
    summary = pull_returns(CODE, now - timedelta(minutes=5), now + timedelta(seconds=2),
                           hub.uow, hub.channels, hub.clock)
    assert summary.error is None and summary.outcomes == {"unchanged": 1}, summary
    ret = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert ret["status"] == "closed"
    notes = [e["data"].get("note", "") for e in ret["timeline"]]
    assert any("shopee CANCELLED" in n for n in notes), notes


def test_pulled_by_update_time_and_free_text_is_classified(live: Any, sim: SimServer) -> None:
    hub, _, api = live
    order = _order(sim, 12)
    detail = _fetch_and_ship(hub, api, order["order_sn"])
    raw = _shopee_return(_raw_order(hub, order["order_sn"]), "2611260002RR",
                         reason="OTHER", text="盒子压坏了")
    _put_returns(sim, [raw])
    now = datetime.now(UTC)
    first = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                         hub.channels, hub.clock)
    assert first.error is None and first.outcomes == {"created": 1}, first.as_json()
    again = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                         hub.channels, hub.clock)
    assert again.outcomes == {"unchanged": 1}
    through_api = api.post(f"/api/v1/channels/{CODE}/pull", json={
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(seconds=2)).isoformat()}).json()
    assert through_api["returns"]["unchanged"] == 1 and through_api["returns"]["error"] is None
    with hub.uow() as uow:
        assert uow.channels.returns_watermark(CODE) == now + timedelta(seconds=2)
    (ret,) = _returns_of(api, detail["id"])
    assert ret["reasons_from"] == "keywords" and "damaged_packaging" in ret["reason_tags"]


def test_a_return_waits_for_its_order_then_lands(live: Any, sim: SimServer) -> None:
    hub, _, api = live
    order = _order(sim, 13)
    with hub.uow() as uow:
        account = uow.channels.account(CODE)
    assert account is not None
    raw_order = hub.channels.open(account).get_orders([order["order_sn"]])[0]
    _put_returns(sim, [_shopee_return(raw_order, "2611260003RR")])
    now = datetime.now(UTC)
    pulled = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                          hub.channels, hub.clock)
    assert pulled.outcomes == {"waiting": 1}, pulled.as_json()
    drain(hub)  # the order is fetched; the return still waits: the hub has not shipped it
    found = api.get("/api/v1/orders", params={"q": order["order_sn"]}).json()["items"]
    assert len(found) == 1 and _returns_of(api, found[0]["id"]) == []
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        api.post(f"/api/v1/orders/{found[0]['id']}/events", json={
            "type": type_, "source": source, "source_event_id": f"{type_}:13",
            "occurred_at": datetime.now(UTC).isoformat()})
    deadline = time.monotonic() + 30
    while not _returns_of(api, found[0]["id"]) and time.monotonic() < deadline:
        time.sleep(0.5)  # the job's backoff
        drain(hub)
    (ret,) = _returns_of(api, found[0]["id"])
    assert ret["source_event_id"] == "2611260003RR"


def test_an_over_quantity_return_is_quarantined_and_replayable(live: Any,
                                                               sim: SimServer) -> None:
    hub, _, api = live
    order = _order(sim, 14)
    detail = _fetch_and_ship(hub, api, order["order_sn"])
    line = detail["lines"][0]
    held = api.post(f"/api/v1/orders/{detail['id']}/returns", json={
        "lines": [{"sku": line["sku"], "quantity": line["quantity"]}],
        "reason_tags": ["other"]}).json()
    raw = _shopee_return(_raw_order(hub, order["order_sn"]), "2611260004RR")
    _put_returns(sim, [raw])
    now = datetime.now(UTC)
    pulled = pull_returns(CODE, now - timedelta(hours=1), now + timedelta(seconds=2), hub.uow,
                          hub.channels, hub.clock)
    assert pulled.outcomes == {"quarantined": 1}
    items = api.get(f"/api/v1/channels/{CODE}/quarantine").json()["items"]
    (q,) = [i for i in items if i["external_id"] == "2611260004RR"]
    assert q["reason"].startswith("return: ") and "lines[0].quantity" == q["field"], q
    assert len(_returns_of(api, detail["id"])) == 1
    # The other return is rejected (its units are free again): the replay takes it.
    api.post(f"/api/v1/returns/{held['id']}/reject", json={})
    replay = api.post(f"/api/v1/channels/{CODE}/quarantine/{q['seq']}/replay").json()
    assert replay["outcome"] == "created" and not replay["still_quarantined"], replay
    assert {r["source_event_id"] for r in _returns_of(api, detail["id"])} >= {"2611260004RR"}


def _inspected(api: TestClient, return_id: str, sku: str) -> None:
    for step in ("approve", "in-transit", "received"):
        r = api.post(f"/api/v1/returns/{return_id}/{step}", json={})
        assert r.status_code == 200, (step, r.text)
    r = api.post(f"/api/v1/returns/{return_id}/inspect",
                 json={"lines": [{"sku": sku, "damaged": 1}]})
    assert r.status_code == 200, r.text


def test_a_refund_through_shopee_confirms_once_even_after_a_kill(live: Any, sim: SimServer,
                                                                 monkeypatch: Any) -> None:
    hub, server, api = live
    detail, _ = _landed(hub, api, sim, server, 15, "2611260005RR")
    (ret,) = _returns_of(api, detail["id"])
    _inspected(api, ret["id"], detail["lines"][0]["sku"])
    asked = api.post(f"/api/v1/returns/{ret['id']}/refund", json={"note": "ok"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["channel_refund"]["status"] == "pending"
    assert api.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 202
    # The worker dies after Shopee's answer, before the hub records the refund.
    refund_after_a_kill(hub, monkeypatch, lambda: _confirms(sim))
    done = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert done["status"] == "refunded" and done["channel_refund"]["status"] == "done"
    refund = [e for e in done["timeline"] if e["type"] == "refund.succeeded"]
    assert len(refund) == 1 and refund[0]["data"]["via"] == "shopee"
    assert _confirms(sim) == 1
    again = api.post(f"/api/v1/returns/{ret['id']}/refund", json={})
    assert again.status_code == 409 and _confirms(sim) == 1


def test_shopee_refusing_the_refund_is_shown_and_the_return_stays_inspected(
        live: Any, sim: SimServer) -> None:
    hub, server, api = live
    detail, _ = _landed(hub, api, sim, server, 16, "2611260006RR")
    (ret,) = _returns_of(api, detail["id"])
    _inspected(api, ret["id"], detail["lines"][0]["sku"])
    sim.admin().post("/_sim/shopee/refuse_confirm", json={
        "return_sn": "2611260006RR", "message": "Return is in dispute."})
    assert api.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 202
    drain(hub)
    shown = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert shown["status"] == "inspected"
    assert shown["channel_refund"]["status"] == "failed"
    assert "Return is in dispute." in shown["channel_refund"]["error"]


def test_a_to_return_scan_with_no_listed_return_ends_and_leaves_it_to_the_pull(
        live: Any, sim: SimServer) -> None:
    """TO_RETURN is a hint: a scan that finds no return keeps trying for a while, then ends
    (done, saying why) instead of staying open for ever; the scheduled pull takes the return
    whenever Shopee lists it."""
    hub, _, _ = live
    order = _order(sim, 17)  # no return listed at Shopee for it
    now = datetime.now(UTC)
    with hub.uow() as uow:
        assert uow.channels.add_job(f"scan:{order['order_sn']}", CODE, order["order_sn"],
                                    SCAN_ORIGIN, None, now)
    drain(hub)
    with hub.db.read() as conn:
        (status, attempts, error) = conn.execute(sa.select(
            t.channel_jobs.c.status, t.channel_jobs.c.attempts, t.channel_jobs.c.last_error)
            .where(t.channel_jobs.c.origin == SCAN_ORIGIN)).one()
    assert (status, attempts) == ("pending", 1) and "no shopee return listed" in error
    with hub.db.write() as conn:  # the earlier looks are spent; the job is due again
        conn.execute(t.channel_jobs.update().where(t.channel_jobs.c.origin == SCAN_ORIGIN)
                     .values(attempts=SCAN_TRIES - 1, available_at=now))
    drain(hub)
    with hub.db.read() as conn:
        (status, error) = conn.execute(sa.select(
            t.channel_jobs.c.status, t.channel_jobs.c.last_error)
            .where(t.channel_jobs.c.origin == SCAN_ORIGIN)).one()
    assert status == "done" and error.endswith("left to the scheduled pull")
