"""`orderpilot bench returns`: returns routed per second through the 退货路由 rule template
(route, SF pickup booking, SMS) against the loopback SF and SMS simulators, one return at a
time through one in-process dispatcher and runner (the time counted is only theirs), the
latency from the recorded ``return.requested`` to the written route (p50/p99), the address
accuracy on routable returns (the centre's address the policy names for the outlet) and lost returns
(requested, never routed). One in five returns is shipped from an outlet the policy does not
list: those must come out ``decision_required``, never with an address."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.scratch import scratch_database
from orderpilot.services import accounts
from orderpilot.services.returns_routing import registers

Progress = Callable[[str, int, int], None]
CENTRES = {
    "YIWU": {"name_zh": "义乌退货中心", "name_en": "Yiwu return centre", "phone": "057985550000",
             "address": {"country": "CN", "province": "浙江省", "city": "金华市",
                         "district": "义乌市", "line1": "稠江街道退货路88号",
                         "postal_code": "322000"}},
    "NINGBO": {"name_zh": "宁波退货中心", "name_en": "Ningbo return centre",
               "phone": "057486860000",
               "address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                           "district": "北仑区", "line1": "港城大道1号",
                           "postal_code": "315800"}}}
POLICY = {"SF-0278": "YIWU", "SF-0100": "NINGBO"}
OUTLETS = ("SF-0278", "SF-0100", "SF-0278", "SF-0100", "SF-9999")  # the last is unlisted


def run(returns: int, db: str | None, progress: Progress) -> dict[str, Any]:
    from orderpilot.entrypoints.api.app import create_app
    from orderpilot.simulators.external.server import SimServer

    with SimServer() as sim, scratch_database(db) as scratch:
        from orderpilot.adapters import migrations
        from orderpilot.bootstrap import bootstrap
        from orderpilot.config import Settings

        hub = bootstrap(Settings(data_dir=scratch.data_dir, database_url=scratch.database_url,
                                 sim_url=sim.url, log_level="WARNING",
                                 embedded_dispatcher=False,
                                 outbound_timeout_seconds=60,
                                 _env_file=None))
        migrations.upgrade(hub.db)
        try:
            return _run(hub, sim, returns, progress, create_app)
        finally:
            hub.close()


def _run(hub: Any, sim: Any, returns: int, progress: Progress, create_app: Any) -> dict[str, Any]:
    for code, body in CENTRES.items():
        registers.put_centre(hub.uow, hub.clock, code, body, "bench")
    registers.replace_policy(hub.uow, hub.clock, [
        {"outlet_code": o, "return_centre": c} for o, c in POLICY.items()], "bench")
    hub.rules.install_template("return-routing", "bench", enable=True)
    with hub.db.write() as conn:
        token = accounts.create_token(AccountRepository(conn), "bench", "ops", hub.clock,
                                      ("shopee", "wms", "sf"))[1]
    expected: dict[str, str | None] = {}
    elapsed = 0.0
    with TestClient(create_app(hub, with_console=False)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        for i in range(returns):
            outlet = OUTLETS[i % len(OUTLETS)]
            order = api.post("/api/v1/orders", json=_order(i)).json()["id"]
            for n, (kind, source, data) in enumerate((
                    ("payment.succeeded", "shopee", {}), ("wms.released", "wms", {}),
                    ("shipment.shipped", "sf", {"carrier": "sf",
                                                "tracking_number": f"SF9{i:010d}",
                                                "outlet_code": outlet}))):
                api.post(f"/api/v1/orders/{order}/events", json=_event(kind, source, i, n, data))
            _drain(hub)  # the shipment's own handlers, outside the measured part
            return_id = str(uuid.uuid4())
            expected[return_id] = POLICY.get(outlet)
            api.post(f"/api/v1/orders/{order}/events", json=_event(
                "return.requested", "shopee", i, 9, {
                    "return_id": return_id, "lines": [{"sku": "DIAPER-L", "quantity": 1}],
                    "reason_tags": [], "reason_text": "", "customer_address": None}))
            started = time.perf_counter()
            _drain(hub)  # one return at a time: one dispatcher and one runner, in-process
            elapsed += time.perf_counter() - started
            progress("routed", i + 1, returns)
    with hub.db.read() as conn:
        routes = {r.return_id: r for r in conn.execute(sa.select(t.return_routes))}
        requested = {(e.payload.get("data") or {}).get("return_id"): e.recorded_at
                     for e in conn.execute(sa.select(t.events.c.payload, t.events.c.recorded_at)
                                           .where(t.events.c.type == "return.requested"))}
    routable = [r for r, centre in expected.items() if centre]
    right = sum(1 for r in routable if r in routes and routes[r].return_centre == expected[r]
                and routes[r].address == CENTRES[str(expected[r])]["address"]
                and not routes[r].decision_required)
    unroutable_held = sum(1 for r, centre in expected.items() if not centre and r in routes
                          and routes[r].decision_required and routes[r].address is None)
    latencies = sorted((routes[r].routed_at - requested[r]).total_seconds() * 1000
                       for r in expected if r in routes and r in requested)
    creates = [x for x in sim.requests("sf_express")
               if x["body"].get("serviceCode") == "EXP_RECE_CREATE_REVERSE_ORDER"]
    return {"benchmark": "returns", "database": hub.db.engine.dialect.name,
            "returns": returns, "routable": len(routable),
            "returns_routed_per_second": round(len(routes) / elapsed, 1) if elapsed else None,
            "route_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "route_p99_ms": round(latencies[min(len(latencies) - 1,
                                                int(len(latencies) * 0.99))], 1)
            if latencies else None,
            "address_accuracy": round(right / len(routable), 4) if routable else None,
            "unroutable_held_for_a_decision": unroutable_held,
            "pickups_booked": len(creates), "sms_sent": len(sim.requests("aliyun-sms")),
            "lost": len([r for r in expected if r not in routes]),
            "seconds": round(elapsed, 2)}


def _drain(hub: Any) -> None:
    dispatcher, runner = hub.dispatcher("bench"), hub.runner("bench")
    idle = 0
    while idle < 2:
        idle = idle + 1 if dispatcher.run_once() + runner.run_once() == 0 else 0


def _order(i: int) -> dict[str, Any]:
    return {"channel": "shopee", "shop_id": "SG-01", "external_id": f"BR{i:06d}",
            "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
            "customer": {"name": "王小明", "phone": f"139{i:08d}"},
            "shipping_address": {"country": "CN", "province": "广东省", "city": "深圳市",
                                 "district": "南山区", "line1": "科技园1号",
                                 "postal_code": "518000"},
            "lines": [{"sku": "DIAPER-L", "quantity": 1, "unit_price": "129.00"}],
            "total": "129.00"}


def _event(kind: str, source: str, i: int, n: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "source": source, "source_event_id": f"br-{i}-{n}",
            "occurred_at": "2026-11-27T10:00:00+08:00", "data": data}
