"""`orderpilot bench ingest`: orders through the service layer vs. the same rows in plain SQL,
and orders over HTTP from 16 concurrent clients, with how fast they are fully processed.

Accepted is not done: ``fully_processed_per_s`` counts the HTTP run's orders from the first
one sent to an empty backlog (every handler of every event they caused has run), with stock
configured for every SKU and allocation on placement, so each order is allocated, counted and
queued for the ERP and the warehouse as in production. ``--workers N`` adds N
`orderpilot worker` processes beside `serve` (PostgreSQL)."""

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

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks import cpu
from orderpilot.benchmarks.load import LoadClient, LoadError
from orderpilot.benchmarks.scratch import (
    Scratch,
    free_port,
    hub_process,
    open_hub,
    read_counters,
    scratch_database,
    statements_per_order,
    workers,
)
from orderpilot.bootstrap import Hub
from orderpilot.domain import inventory as inv
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import accounts, ordering
from orderpilot.services.inventory import sync as inventory_sync

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
        cur = raw.cursor()
        started = time.perf_counter()
        for i, b in enumerate(bodies):
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            insert_order_rows(cur, b, sqlite=sqlite, prefix="raw")
            raw.commit()
            if i % 500 == 0:
                progress("raw SQL", i, len(bodies))
        return len(bodies) / (time.perf_counter() - started)
    finally:
        raw.close()


def insert_order_rows(cur: Any, b: dict[str, Any], *, sqlite: bool, prefix: str) -> str:
    """An order's five rows, as the service layer writes them, by hand-written SQL on a
    DB-API cursor (sqlite3 or psycopg) in the caller's transaction; returns the order's id.
    ``prefix`` keeps its external id and idempotency key apart from other runs' orders."""
    mark = "?" if sqlite else "%s"

    def sql(text: str) -> str:
        return text.replace("?", mark)

    now = datetime.now(UTC)
    now_value: Any = now.replace(tzinfo=None) if sqlite else now
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    a = b["shipping_address"]
    placed = datetime.fromisoformat(b["placed_at"]).astimezone(UTC)
    placed_value: Any = placed.replace(tzinfo=None) if sqlite else placed
    cur.execute(sql(
        "INSERT INTO orders (id, channel, shop_id, external_id, placed_at, currency, "
        "customer_name, customer_phone, address_country, address_province, address_city, "
        "address_district, address_line1, address_postal_code, address_flags, "
        "total_cents, shipping_fee_cents, tags, status, status_changed_at, held, "
        "version, idempotency_key, request_hash, created_at, updated_at) VALUES "
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        (order_id, b["channel"], b["shop_id"], prefix + b["external_id"], placed_value,
         "CNY", b["customer"]["name"], b["customer"]["phone"], "CN", a["province"],
         a["city"], a["district"], a["line1"], a["postal_code"], "bonded_zone",
         int(float(b["total"]) * 100), 0, "[]", "placed", now_value, False, 0,
         f"{prefix}-{b['external_id']}", "0" * 64, now_value, now_value))
    cur.executemany(sql(
        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, "
        "unit_price_cents, discount_cents) VALUES (?,?,?,?,?,?,?)"),
        [(order_id, n + 1, ln["sku"], "", ln["quantity"],
          int(float(ln["unit_price"]) * 100), 0) for n, ln in enumerate(b["lines"])])
    cur.execute(sql("INSERT INTO raw_payloads (order_id, source, version, received_at, "
                    "payload) VALUES (?,?,?,?,?)"),
                (order_id, "api", "canonical-v1", now_value, json.dumps(b, ensure_ascii=False)))
    cur.execute(sql(
        "INSERT INTO events (id, order_id, type, source, system, source_event_id, "
        "occurred_at, recorded_at, payload) VALUES (?,?,?,?,?,?,?,?,?)"),
        (event_id, order_id, "order.placed", b["channel"], "storefront",
         f"{prefix}:{b['external_id']}", placed_value, now_value,
         json.dumps({"channel": b["channel"], "total": b["total"]})))
    cur.execute(sql("INSERT INTO outbox (event_id, status, attempts, available_at) "
                    "VALUES (?,?,?,?)"), (event_id, "pending", 0, now_value))
    return order_id


async def post_orders(base: str, token: str, bodies: list[dict[str, Any]],
                    clients: int) -> tuple[float, list[float], int]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors = 0

    async def client(http: LoadClient) -> None:
        nonlocal errors
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            try:
                r = await http.post("/api/v1/orders", body, headers={
                    "Idempotency-Key": f"http-{body['external_id']}"})
                failed = r.status_code not in (200, 201)
            except LoadError:
                failed = True
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += failed

    async with LoadClient(base, headers={"Authorization": f"Bearer {token}"},
                          connections=clients) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, errors


def over_http(scratch: Scratch, token: str, bodies: list[dict[str, Any]], clients: int,
              worker_processes: int, progress: Progress) -> dict[str, Any]:
    hub = open_hub(scratch)  # only reads the backlog
    ports = [free_port() for _ in range(worker_processes)]
    measured = len(bodies) - 200
    try:
        with (hub_process(scratch, free_port(), beside_workers=worker_processes > 0) as base,
              workers(scratch, worker_processes, ports)):
            asyncio.run(post_orders(base, token, bodies[:200], clients))  # warm-up, not counted
            _wait_for_empty_backlog(hub, progress)
            before = read_counters(base, token, ports)
            with cpu.measure() as used:
                started = time.perf_counter()
                rate, latencies, errors = asyncio.run(post_orders(base, token, bodies[200:],
                                                                clients))
                accepted = time.perf_counter() - started
                drained = _wait_for_empty_backlog(hub, progress) - started
            after = read_counters(base, token, ports)
            writer = _writer_share(before[0], after[0], drained, measured)
            dead = _outbox_rows(hub, "dead")
            with hub.db.read() as conn:  # allocation was on: every order holds its stock
                allocated = int(conn.execute(sa.select(sa.func.count(
                    sa.distinct(t.allocations.c.order_id)))).scalar_one())
    finally:
        hub.close()
    latencies.sort()
    return {"http_orders_per_s": round(rate, 1),
            "http_p50_ms": round(statistics.median(latencies), 2),
            "http_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "http_errors": errors, "worker_processes": worker_processes,
            "fully_processed_per_s": round((len(bodies) - 200) / drained, 1),
            "backlog_drained_after_accepting_s": round(max(drained - accepted, 0.0), 2),
            "orders_allocated": allocated, "dead_letters": dead,
            "cpu": used.as_json(measured),
            "sql_statements_per_order": statements_per_order(before, after, measured),
            **writer}


WRITER_METRICS = ("orderpilot_sqlite_writer_busy_seconds_total",
                  "orderpilot_sqlite_writer_wait_seconds_total",
                  "orderpilot_sqlite_write_transactions_total")


def _writer_share(before: dict[str, float], after: dict[str, float], seconds: float,
                  orders: int) -> dict[str, Any]:
    """How busy serve kept SQLite's one writer while the orders went through: a share near
    1 means its write transactions queued behind each other."""
    if WRITER_METRICS[0] not in after or seconds <= 0:  # PostgreSQL: no single writer
        return {}
    busy, wait, count = (after[m] - before.get(m, 0.0) for m in WRITER_METRICS)
    return {"sqlite_writer_in_serve": {
        "busy_share": round(busy / seconds, 3),
        "held_ms_per_order": round(busy * 1000 / orders, 2),
        "transactions_per_order": round(count / orders, 2),
        "wait_ms_per_transaction": round(wait * 1000 / count, 2) if count else 0.0}}


def _outbox_rows(hub: Hub, status: str) -> int:
    """``pending``: events not yet handled; ``dead``: dead letters (not waiting any more)."""
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.outbox)
                                .where(t.outbox.c.status == status)).scalar_one())


def _wait_for_empty_backlog(hub: Hub, progress: Progress, timeout: float = 900) -> float:
    """perf_counter() when the backlog was first seen empty (checked every 50 ms)."""
    deadline = time.perf_counter() + timeout
    while (left := _outbox_rows(hub, "pending")) and time.perf_counter() < deadline:
        progress("processing", 0, left)
        time.sleep(0.05)
    if left:
        raise RuntimeError(f"{left} events still waiting after {timeout:.0f} s")
    return time.perf_counter()


def _token(scratch: Scratch) -> str:
    """Migrate the scratch database, put stock behind every SKU with allocation on placement
    in every channel, and make an API token for the HTTP clients."""
    hub = open_hub(scratch)
    try:
        for code, kind in (("NB", "bonded_spot"), ("HZ", "domestic_transfer")):
            inventory_sync.put_source(inventory_sync.build_source(
                code=code, kind=kind, name_zh=code, name_en=code, region="",
                lead_time_days=1), hub.uow, hub.clock)
        inventory_sync.apply_levels("bench-ingest", [
            inventory_sync.LevelReport(code, sku, 1_000_000) for sku, _ in SKUS
            for code in ("NB", "HZ")], hub.uow, hub.clock)
        for channel, _shop in CHANNELS:
            inventory_sync.put_strategy(inv.Strategy(channel, allocate_on="placed"),
                                        hub.uow, hub.clock)
        with hub.db.write() as conn:
            return accounts.create_token(AccountRepository(conn), "bench", "ops", hub.clock)[1]
    finally:
        hub.close()


def run(orders: int, http_orders: int, clients: int, db_url: str | None,
        progress: Progress, worker_processes: int = 0) -> dict[str, Any]:
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
                         clients, worker_processes, progress)
    return {"benchmark": "ingest", "db": scratch.label, "orders": orders,
            "orders_per_s": round(service_rate, 1), "raw_ceiling_per_s": round(ceiling, 1),
            "ratio": round(service_rate / ceiling, 3), "http_orders": http_orders,
            "http_clients": clients, **http}
