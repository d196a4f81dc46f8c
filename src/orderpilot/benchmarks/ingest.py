"""`orderpilot bench ingest`: orders through the service layer vs. the same rows in plain SQL,
and orders over HTTP from 16 concurrent clients."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.scratch import (
    Scratch,
    free_port,
    hub_process,
    open_hub,
    scratch_database,
)
from orderpilot.bootstrap import Hub
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import accounts, ordering

SKUS = [("DIAPER-L", "129.00"), ("FORMULA-2", "268.00"), ("WIPES-80", "19.90"),
        ("BOTTLE-240", "89.00"), ("TEETHER-1", "35.50"), ("SPOON-SET", "42.00")]
CHANNELS = [("shopee", "SG-01"), ("lazada", "MY-01"), ("own_store", "web-cn"),
            ("youzan", "wx-mini")]
Progress = Callable[[str, int, int], None]


def order_bodies(count: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    bodies = []
    for i in range(count):
        channel, shop = rng.choice(CHANNELS)
        lines = [{"sku": sku, "name": "", "quantity": rng.randint(1, 3), "unit_price": price}
                 for sku, price in rng.sample(SKUS, rng.randint(1, 3))]
        total = sum(int(str(ln["quantity"])) * float(str(ln["unit_price"])) for ln in lines)
        bodies.append({
            "channel": channel, "shop_id": shop, "external_id": f"{prefix}{i:07d}",
            "placed_at": (start + timedelta(seconds=i)).isoformat(), "currency": "CNY",
            "customer": {"name": "测试买家", "phone": f"138{rng.randint(0, 99999999):08d}"},
            "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                                 "district": "北仑区", "line1": f"保税区港城大道{i}号",
                                 "postal_code": "315800"},
            "lines": lines, "total": f"{total:.2f}"})
    return bodies


def to_command(body: dict[str, Any]) -> PlaceOrder:
    return PlaceOrder(
        channel=body["channel"], shop_id=body["shop_id"], external_id=body["external_id"],
        placed_at=datetime.fromisoformat(body["placed_at"]), currency=body["currency"],
        customer_name=body["customer"]["name"], customer_phone=body["customer"]["phone"],
        address=body["shipping_address"],
        lines=tuple(LineInput(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in
                    body["lines"]), total=body["total"], raw_payload=body,
        idempotency_key=f"bench-{body['external_id']}")


def through_services(hub: Hub, bodies: list[dict[str, Any]], progress: Progress) -> float:
    commands = [to_command(b) for b in bodies]
    started = time.perf_counter()
    for i, cmd in enumerate(commands):
        ordering.place_order(cmd, hub.uow, hub.clock)
        if i % 500 == 0:
            progress("service layer", i, len(commands))
    return len(commands) / (time.perf_counter() - started)


def raw_ceiling(hub: Hub, bodies: list[dict[str, Any]], progress: Progress) -> float:
    """The same rows (order, lines, raw payload, event, outbox) with hand-written SQL on the
    driver connection, one commit per order, the same pragmas: what the database can do."""
    raw = hub.db.engine.raw_connection()
    try:
        sqlite = hub.db.is_sqlite
        mark = "?" if sqlite else "%s"

        def sql(text: str) -> str:
            return text.replace("?", mark)

        cur = raw.cursor()
        now = datetime.now(UTC)
        now_value: Any = now.replace(tzinfo=None) if sqlite else now
        started = time.perf_counter()
        for i, b in enumerate(bodies):
            order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
            a = b["shipping_address"]
            placed = datetime.fromisoformat(b["placed_at"]).astimezone(UTC)
            placed_value: Any = placed.replace(tzinfo=None) if sqlite else placed
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(sql(
                "INSERT INTO orders (id, channel, shop_id, external_id, placed_at, currency, "
                "customer_name, customer_phone, address_country, address_province, address_city, "
                "address_district, address_line1, address_postal_code, address_flags, "
                "total_cents, shipping_fee_cents, tags, status, status_changed_at, held, "
                "version, idempotency_key, request_hash, created_at, updated_at) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
                (order_id, b["channel"], b["shop_id"], "raw" + b["external_id"], placed_value,
                 "CNY", b["customer"]["name"], b["customer"]["phone"], "CN", a["province"],
                 a["city"], a["district"], a["line1"], a["postal_code"], "bonded_zone",
                 int(float(b["total"]) * 100), 0, "[]", "placed", now_value, False, 0,
                 "raw-" + b["external_id"], "0" * 64, now_value, now_value))
            cur.executemany(sql(
                "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, "
                "unit_price_cents, discount_cents) VALUES (?,?,?,?,?,?,?)"),
                [(order_id, n + 1, ln["sku"], "", ln["quantity"],
                  int(float(ln["unit_price"]) * 100), 0) for n, ln in enumerate(b["lines"])])
            cur.execute(sql("INSERT INTO raw_payloads (order_id, source, version, received_at, "
                            "payload) VALUES (?,?,?,?,?)"),
                        (order_id, "api", "canonical-v1", now_value,
                         json.dumps(b, ensure_ascii=False)))
            cur.execute(sql(
                "INSERT INTO events (id, order_id, type, source, system, source_event_id, "
                "occurred_at, recorded_at, payload) VALUES (?,?,?,?,?,?,?,?,?)"),
                (event_id, order_id, "order.placed", b["channel"], "storefront",
                 f"raw:{b['external_id']}", placed_value, now_value,
                 json.dumps({"channel": b["channel"], "total": b["total"]})))
            cur.execute(sql("INSERT INTO outbox (event_id, status, attempts, available_at) "
                            "VALUES (?,?,?,?)"), (event_id, "pending", 0, now_value))
            raw.commit()
            if i % 500 == 0:
                progress("raw SQL", i, len(bodies))
        return len(bodies) / (time.perf_counter() - started)
    finally:
        raw.close()


async def _post_all(base: str, token: str, bodies: list[dict[str, Any]],
                    clients: int) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            r = await http.post("/api/v1/orders", json=body, headers={
                "Idempotency-Key": f"http-{body['external_id']}"})
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code not in (200, 201):
                errors += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, errors


def over_http(scratch: Scratch, token: str, bodies: list[dict[str, Any]],
              clients: int) -> dict[str, Any]:
    with hub_process(scratch, free_port()) as base:
        asyncio.run(_post_all(base, token, bodies[:200], clients))  # warm-up, not counted
        rate, latencies, errors = asyncio.run(_post_all(base, token, bodies[200:], clients))
    latencies.sort()
    return {"http_orders_per_s": round(rate, 1),
            "http_p50_ms": round(statistics.median(latencies), 2),
            "http_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "http_errors": errors}


def _token(scratch: Scratch) -> str:
    """Migrate the scratch database and make an API token for the HTTP clients."""
    hub = open_hub(scratch)
    try:
        with hub.db.write() as conn:
            return accounts.create_token(AccountRepository(conn), "bench", "ops", hub.clock)[1]
    finally:
        hub.close()


def run(orders: int, http_orders: int, clients: int, db_url: str | None,
        progress: Progress) -> dict[str, Any]:
    with scratch_database(db_url) as scratch:
        hub = open_hub(scratch)
        try:
            service_rate = through_services(hub, order_bodies(orders, 1, "S"), progress)
            ceiling = raw_ceiling(hub, order_bodies(orders, 2, "R"), progress)
        finally:
            hub.close()
    # A fresh database for HTTP, so the server's dispatcher is not still draining the events
    # of the runs above while it is being measured.
    with scratch_database(db_url) as scratch:
        progress("HTTP", 0, http_orders)
        http = over_http(scratch, _token(scratch), order_bodies(http_orders + 200, 3, "H"),
                         clients)
    return {"benchmark": "ingest", "db": scratch.label, "orders": orders,
            "orders_per_s": round(service_rate, 1), "raw_ceiling_per_s": round(ceiling, 1),
            "ratio": round(service_rate / ceiling, 3), "http_orders": http_orders,
            "http_clients": clients, **http}
