"""`orderpilot bench channels`: platform pushes and pulls through the real path, against the
platform simulators: `orderpilot serve` (API, dispatcher and channel worker) on a scratch
database, `orderpilot sim serve` beside it.

* push: the simulator makes N orders, then signs and sends each order's push to /hooks/{code}
  from CLIENTS concurrent senders, a share of them twice (replays). ``push_ack_p99_ms`` is the
  99th percentile of the hub's answer time as the platform sees it; ``orders_per_s`` is N over
  the time from the first push until the last order is canonical (push -> fetch -> order).
* backfill: the simulator makes 10 000 more orders over a day; one pull over that day
  (POST /api/v1/channels/{code}/pull) brings them in: ``backfill_10k_seconds``.
* ``lost``: orders the platform has that the hub does not; ``duplicated``: orders or
  ``order.placed`` events beyond one per platform order.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.scratch import (
    Scratch,
    child_process,
    free_port,
    open_hub,
    scratch_database,
)
from orderpilot.services import accounts

Progress = Callable[[str, int, int], None]
PLATFORM_CODES = {"shopee": "shopee-sg", "lazada": "lazada-my", "tiktok": "tiktok-th",
                  "shopify": "own-store", "woocommerce": "woo-site", "youzan": "youzan-mini"}


def account_body(platform: str, sim: str) -> dict[str, Any]:
    """A channel account on PLATFORM's simulator, with its test credentials."""
    import importlib

    module = importlib.import_module(f"orderpilot.integrations.{platform}.simulator")
    credentials = dict(module.SIM_CREDENTIALS)
    if getattr(module, "SIM_REFRESH_TOKEN", None):  # TikTok: the refresh token is optional
        credentials.setdefault("refresh_token", module.SIM_REFRESH_TOKEN)
    return {"platform": platform, "shop_id": module.SIM_SHOP_ID, "region": module.SIM_REGION,
            "base_url": f"{sim}/{platform}", "credentials": credentials,
            "pull_every_minutes": 0}


def run(platform: str, orders: int, backfill: int, clients: int, db: str | None,
        progress: Progress, workers: int = 0) -> dict[str, Any]:
    """WORKERS > 0: `serve` answers the API only and that many `orderpilot worker` processes
    deliver events and fetch orders (the scale-out shape); 0: all in `serve`."""
    with scratch_database(db) as scratch:
        token = _admin_token(scratch)
        sim_port, hub_port = free_port(), free_port()
        with child_process(["sim", "serve", "--port", str(sim_port)], sim_port,
                           scratch.env(), what="the simulators") as sim:
            env = {**scratch.env(), "ORDERPILOT_SIM_URL": sim,
                   "ORDERPILOT_CHANNEL_SCHEDULE_SECONDS": "3600"}
            serve_env = {**env, "ORDERPILOT_EMBEDDED_DISPATCHER": "false"} if workers else env
            procs = [subprocess.Popen([sys.executable, "-m", "orderpilot", "worker"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(workers)]
            try:
                with child_process(["serve", "--port", str(hub_port)], hub_port,
                                   serve_env) as hub:
                    result = _measure(platform, orders, backfill, clients, scratch, sim, hub,
                                      token, progress)
                    return {**result, "worker_processes": workers}
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait(timeout=20)


def _admin_token(scratch: Scratch) -> str:
    hub = open_hub(scratch)
    try:
        with hub.db.write() as conn:
            return accounts.create_token(AccountRepository(conn), "bench", "admin",
                                         hub.clock)[1]
    finally:
        hub.close()


def _measure(platform: str, n: int, backfill: int, clients: int, scratch: Scratch, sim: str,
             hub: str, token: str, progress: Progress) -> dict[str, Any]:
    code = PLATFORM_CODES[platform]
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=600) as http:
        put = http.put(f"{hub}/api/v1/channels/{code}", headers=auth,
                       json=account_body(platform, sim))
        put.raise_for_status()
        start = datetime.now(UTC) - timedelta(days=3)
        made = http.post(f"{sim}/_sim/{platform}/generate", json={
            "count": n, "seed": 7, "start": start.isoformat(), "spread_seconds": 3600})
        made.raise_for_status()
        ids: list[str] = made.json()["external_ids"]
    replays = {i for k, i in enumerate(ids) if k % 10 == 0}  # every tenth push sent twice
    signed = asyncio.run(_sign_all(sim, platform, f"{hub}/hooks/{code}", ids, progress))
    started = time.perf_counter()
    acks = asyncio.run(_push_all(sim, platform, f"{hub}/hooks/{code}", ids, replays, clients,
                                 progress, signed))
    if not acks:
        raise RuntimeError("no push was sent")
    canonical_at = _wait_for(scratch, platform, n, progress, "fetch")
    push_seconds = canonical_at - started
    server_p99 = _server_p99_ms(hub, auth)
    with httpx.Client(timeout=3600) as http:
        day = datetime.now(UTC) - timedelta(days=2)
        made = http.post(f"{sim}/_sim/{platform}/generate", json={
            "count": backfill, "seed": 11, "start": day.isoformat(), "spread_seconds": 86_000})
        made.raise_for_status()
        progress("backfill", 0, 1)
        began = time.perf_counter()
        pulled = http.post(f"{hub}/api/v1/channels/{code}/pull", headers=auth, json={
            "since": (day - timedelta(minutes=1)).isoformat(),
            "until": (day + timedelta(days=1)).isoformat()})
        pulled.raise_for_status()
        backfill_seconds = time.perf_counter() - began
        progress("backfill", 1, 1)
    count, distinct, placed = _counts(scratch, platform)
    statuses = [a[0] for a in acks]
    latencies = sorted(a[1] for a in acks)
    return {
        "platform": platform, "database": scratch.label, "orders": n, "clients": clients,
        "pushes": len(acks), "replayed_pushes": len(replays),
        "push_ack_p50_ms": round(statistics.median(latencies), 2),
        "push_ack_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "push_refused": sum(1 for s in statuses if s >= 300),
        # The hub's own time (request in to answer out), from its /metrics histogram: the
        # bucket bound under which 99 % of the pushes were answered.
        "push_ack_server_p99_le_ms": server_p99,
        "orders_per_s": round(n / push_seconds, 1),
        "backfill_orders": backfill, "backfill_10k_seconds": round(
            backfill_seconds * 10_000 / backfill, 2),
        "backfill_summary": {k: pulled.json().get(k) for k in (
            "pages", "seen", "created", "updated", "unchanged", "quarantined", "error")},
        "lost": max(0, n + backfill - distinct),
        "duplicated": (count - distinct) + max(0, placed - distinct),
        "targets": {"push_ack_p99_ms": "<= 50", "orders_per_s": ">= 200 (embedded default)",
                    "lost": 0, "duplicated": 0},
    }


async def _sign_all(sim: str, platform: str, hook: str, ids: list[str],
                    progress: Progress) -> dict[str, dict[str, Any]]:
    """Each order's signed push from the simulator (``/push_request``), not sent; {} when
    this platform's simulator does not hand them out."""
    signed: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for n, external_id in enumerate(ids):
            answer = await client.post(f"{sim}/_sim/{platform}/push_request", json={
                "hook_url": hook, "external_id": external_id})
            if answer.status_code != 200:
                return {}
            signed[external_id] = answer.json()
            progress("sign", n + 1, len(ids))
    return signed


async def _push_all(sim: str, platform: str, hook: str, ids: list[str], replays: set[str],
                    clients: int, progress: Progress,
                    signed: dict[str, dict[str, Any]]) -> list[tuple[int, float]]:
    """Each order's signed push, as the platform would send it, from CLIENTS concurrent
    senders. Where the simulator hands out the signed request (``/push_request``: Shopee) the
    bench sends it itself and times the hub's answer; elsewhere the simulator sends it and
    times it (its own work then counts too)."""
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for external_id in ids:
        queue.put_nowait((external_id, 2 if external_id in replays else 1))
    acks: list[tuple[int, float]] = []
    direct = bool(signed)
    async with httpx.AsyncClient(timeout=60) as client:
        async def sender() -> None:
            while not queue.empty():
                external_id, times = queue.get_nowait()
                for _ in range(times):
                    if direct:
                        push = signed[external_id]
                        began = time.perf_counter()
                        answer = await client.post(hook, content=push["body"].encode(),
                                                   headers=push["headers"])
                        acks.append((answer.status_code,
                                     (time.perf_counter() - began) * 1000))
                    else:
                        sent = await client.post(f"{sim}/_sim/{platform}/push", json={
                            "hook_url": hook, "external_id": external_id})
                        sent.raise_for_status()
                        body = sent.json()
                        acks.append((int(body["status"]), float(body["elapsed_ms"])))
                progress("push", len(acks), len(ids) + len(replays))

        await asyncio.gather(*(sender() for _ in range(clients)))
    return acks


def _server_p99_ms(hub: str, auth: dict[str, str]) -> float | None:
    text = httpx.get(f"{hub}/metrics", headers=auth, timeout=30).text
    buckets: list[tuple[float, float]] = []
    for line in text.splitlines():
        if line.startswith("orderpilot_http_request_seconds_bucket") and \
                'route="/hooks/{code}"' in line and 'status="200"' in line:
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound),
                            float(line.rsplit(" ", 1)[1])))
    if not buckets:
        return None
    buckets.sort()
    total = buckets[-1][1]
    return next((round(bound * 1000, 1) for bound, count in buckets
                 if count >= 0.99 * total), None)


def _wait_for(scratch: Scratch, platform: str, n: int, progress: Progress,
              stage: str, timeout_s: float = 600) -> float:
    deadline = time.monotonic() + timeout_s
    engine = _engine(scratch)
    try:
        while True:
            with engine.connect() as conn:
                done = conn.execute(sa.text("SELECT count(*) FROM orders WHERE channel = :c"),
                                    {"c": platform}).scalar_one()
            progress(stage, min(done, n), n)
            if done >= n:
                return time.perf_counter()
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {n} pushed orders arrived in "
                                   f"{timeout_s:.0f} s")
            time.sleep(0.05)
    finally:
        engine.dispose()


def _counts(scratch: Scratch, platform: str) -> tuple[int, int, int]:
    engine = _engine(scratch)
    try:
        with engine.connect() as conn:
            count, distinct = conn.execute(sa.text(
                "SELECT count(*), count(DISTINCT external_id) FROM orders WHERE channel = :c"),
                {"c": platform}).one()
            placed = conn.execute(sa.text(
                "SELECT count(*) FROM events WHERE type = 'order.placed' AND source = :c"),
                {"c": platform}).scalar_one()
        return int(count), int(distinct), int(placed)
    finally:
        engine.dispose()


def _engine(scratch: Scratch) -> sa.Engine:
    url = scratch.database_url or f"sqlite:///{scratch.data_dir / 'orderpilot.db'}"
    return sa.create_engine(url, poolclass=sa.pool.NullPool)
