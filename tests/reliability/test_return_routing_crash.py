"""kill -9 the hub while it books a return pickup with SF: the booking reached SF and SF holds
its answer when the hub dies, so the hub does not know the outcome. After the restart the hub
must ask SF (EXP_RECE_SEARCH_ORDER_RESP by the pickup's orderId), find the booking and never
send EXP_RECE_CREATE_REVERSE_ORDER again; the route, the SMS and the run each happen once.
Without the look-up the hub would resend the booking (the test counts the create calls)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.simulators.external.server import SimServer
from reliability.support.backends import Backend
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli
from reliability.support.waiting import wait_for
from returns.routing_support import NINGBO, TYPED, YIWU

pytestmark = pytest.mark.slow

ORDER = {"channel": "shopee", "shop_id": "SG-01", "external_id": "CRASH-RET-1",
         "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
         "customer": {"name": "王五", "phone": "13700004321"},
         "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                              "district": "北仑区", "line1": "港城大道1号",
                              "postal_code": "315800"},
         "lines": [{"sku": "DIAPER-L", "quantity": 1, "unit_price": "129.00"}],
         "total": "129.00"}


def sf(sim: SimServer, service: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests("sf_express") if r["body"].get("serviceCode") == service]


def run_status(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(sa.select(t.rule_runs.c.status)).scalar()


def test_a_pickup_booking_cut_off_by_kill_9_is_booked_once(backend: Backend) -> None:
    with SimServer() as sim:
        env = orderpilot_env(backend.data_dir, backend.database_url, sim_url=sim.url,
                             rule_lease_seconds="2", rule_lookup_grace_seconds="2",
                             rule_lookup_backoff_seconds="0.5")
        run_cli(env, "db", "upgrade")
        run_cli(env, "rules", "install-template", "return-routing", "--enable")
        token = create_token(env, "ops", "crash", "shopee", "wms", "sf")
        sim.admin().post("/_sim/sf_express/faults", json={"hold_ms": 4000}).raise_for_status()
        server = Server(env, backend.data_dir)
        server.start()
        server.wait_ready()
        db = Database(backend.url)
        return_id = str(uuid.uuid4())
        try:
            with httpx.Client(base_url=server.base_url, timeout=10,
                              headers={"Authorization": f"Bearer {token}"}) as api:
                for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
                    api.put(f"/api/v1/return-centres/{code}", json=body).raise_for_status()
                api.put("/api/v1/return-policy", json={"rows": [
                    {"outlet_code": "SF-0278", "return_centre": "YIWU"}]}).raise_for_status()
                order_id = api.post("/api/v1/orders", json=ORDER).json()["id"]
                for n, (kind, source, data) in enumerate((
                        ("payment.succeeded", "shopee", {}), ("wms.released", "wms", {}),
                        ("shipment.shipped", "sf", {"carrier": "sf",
                                                    "tracking_number": "SF1040000278",
                                                    "outlet_code": "SF-0278"}),
                        ("return.requested", "shopee", {
                            "return_id": return_id, "reason_tags": ["尺码不符"],
                            "reason_text": "", "customer_address": TYPED,
                            "lines": [{"sku": "DIAPER-L", "quantity": 1}]}))):
                    r = api.post(f"/api/v1/orders/{order_id}/events", json={
                        "type": kind, "source": source, "source_event_id": f"crash-{n}",
                        "occurred_at": f"2026-11-27T1{n}:00:00+08:00", "data": data})
                    assert r.status_code in (200, 201), r.text
            wait_for("SF to hold the booking",
                     lambda: sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER"))
            server.kill()
            with db.read() as conn:
                calling = [a.status for a in conn.execute(sa.select(t.outside_attempts))]
            assert "calling" in calling

            server.start()
            server.wait_ready()
            wait_for("the run to finish", lambda: run_status(db) == "succeeded")
            time.sleep(1.0)  # a wrong resend would land now
            with db.read() as conn:
                route = conn.execute(sa.select(t.return_routes)).one()
                runs = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)).scalar()
        finally:
            db.dispose()
            server.stop()
        creates = sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER")
        searches = sf(sim, "EXP_RECE_SEARCH_ORDER_RESP")
        sms = sim.requests("aliyun-sms")

    assert len(creates) == 1, f"the pickup was booked {len(creates)} times"
    assert len(searches) >= 1  # the outcome was asked for before anything was resent
    assert json.loads(searches[0]["body"]["msgData"])["orderId"] == f"RT{return_id}"
    assert (route.return_centre, route.status, route.decision_required) == (
        "YIWU", "pickup_booked", False)
    assert route.pickup_waybill and route.pickup_start < route.pickup_end
    assert runs == 1
    assert len(sms) == 1 and json.loads(sms[0]["body"]["TemplateParam"])["centre"] == \
        "义乌退货中心"


@pytest.mark.parametrize("held_by", ["sf_express", "aliyun-sms"])
def test_a_return_taken_by_the_api_and_cut_off_by_kill_9_is_booked_and_texted_once(
        backend: Backend, held_by: str) -> None:
    """The return comes in through POST /api/v1/orders/{id}/returns (its return.requested
    written with it, in one transaction). The hub is killed while SF holds the booking's answer,
    or, a step later, while the SMS gateway holds the text's answer; after the restart: one
    return, one route, one booking, one SMS, one run."""
    with SimServer() as sim:
        env = orderpilot_env(backend.data_dir, backend.database_url, sim_url=sim.url,
                             rule_lease_seconds="2", rule_lookup_grace_seconds="2",
                             rule_lookup_backoff_seconds="0.5")
        run_cli(env, "db", "upgrade")
        run_cli(env, "rules", "install-template", "return-routing", "--enable")
        token = create_token(env, "ops", "crash", "shopee", "wms", "sf")
        sim.admin().post(f"/_sim/{held_by}/faults", json={"hold_ms": 4000}).raise_for_status()
        server = Server(env, backend.data_dir)
        server.start()
        server.wait_ready()
        db = Database(backend.url)
        try:
            with httpx.Client(base_url=server.base_url, timeout=10,
                              headers={"Authorization": f"Bearer {token}"}) as api:
                for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
                    api.put(f"/api/v1/return-centres/{code}", json=body).raise_for_status()
                api.put("/api/v1/return-policy", json={"rows": [
                    {"outlet_code": "SF-0278", "return_centre": "YIWU"}]}).raise_for_status()
                order_id = api.post("/api/v1/orders", json=ORDER).json()["id"]
                for n, (kind, source, data) in enumerate((
                        ("payment.succeeded", "shopee", {}), ("wms.released", "wms", {}),
                        ("shipment.shipped", "sf", {"carrier": "sf",
                                                    "tracking_number": "SF1040000278",
                                                    "outlet_code": "SF-0278"}))):
                    r = api.post(f"/api/v1/orders/{order_id}/events", json={
                        "type": kind, "source": source, "source_event_id": f"crash-{n}",
                        "occurred_at": f"2026-11-27T1{n}:00:00+08:00", "data": data})
                    assert r.status_code in (200, 201), r.text
                taken = api.post(f"/api/v1/orders/{order_id}/returns", json={
                    "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_tags": ["wrong_size"],
                    "source": "shopee", "source_event_id": "RR-CRASH-1",
                    "customer_address": TYPED})
                assert taken.status_code == 201, taken.text
                return_id = taken.json()["id"]
            if held_by == "sf_express":
                wait_for("SF to hold the booking",
                         lambda: sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER"))
            else:
                wait_for("the SMS gateway to hold the text", lambda: sim.requests("aliyun-sms"))
            server.kill()
            with db.read() as conn:
                calling = [a.status for a in conn.execute(sa.select(t.outside_attempts))]
            assert "calling" in calling

            server.start()
            server.wait_ready()
            wait_for("the run to finish", lambda: run_status(db) == "succeeded")
            time.sleep(1.0)  # a wrong resend would land now
            with db.read() as conn:
                returns = conn.execute(sa.select(t.returns.c.id)).scalars().all()
                route = conn.execute(sa.select(t.return_routes)).one()
                runs = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)).scalar()
        finally:
            db.dispose()
            server.stop()
        creates = sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER")
        sms = sim.requests("aliyun-sms")

    assert returns == [return_id]
    assert len(creates) == 1, f"the pickup was booked {len(creates)} times"
    assert json.loads(creates[0]["body"]["msgData"])["orderId"] == f"RT{return_id}"
    assert (route.return_id, route.return_centre, route.status) == (
        return_id, "YIWU", "pickup_booked")
    assert runs == 1
    assert len(sms) == 1, f"the buyer was texted {len(sms)} times"
    assert json.loads(sms[0]["body"]["TemplateParam"])["centre"] == "义乌退货中心"
