"""`orderpilot bench surge`: a flash sale through the real processes, nothing lost or doubled.

`orderpilot serve` (and WORKERS `orderpilot worker` processes, the scale-out shape) on a
scratch database, `orderpilot sim serve` beside them answering slowly (``SIM_DELAY_MS``) and
failing one call in fifty (2%: the customs check of a rule, the WMS outbound orders). ORDERS
orders from four storefronts arrive evenly over MINUTES; each order's life is played by its own
task: placed (3% pushed twice), paid, cancelled (8%), released by the WMS, shipped, in transit
and delivered (the in-transit scan after the delivery for 10%), a return requested (6%), with
reports sent twice (4%) and late copies of the payment (5%). Every call is retried until the
hub answers (a 5xx or a cut connection is retried with the same ids). The hub meanwhile
allocates stock, runs a rule (the customs check, an outside call) and queues WMS outbound
orders. With ``kill_worker`` one worker is SIGKILLed halfway and started again, as a
supervisor would.

Figures: ``acknowledged`` orders (a 2xx from the hub), ``lost`` (acknowledged but not in the
hub), ``duplicated_effects`` (surge_effects.py), ``state_mismatches`` (each order's status from
the API against ``surge_plan.expected_state`` of the reports the hub answered),
``event_to_action_p99_ms`` (payment recorded -> the rule's outside call done),
``backlog_drained_seconds`` (from the last report until no event, rule run or outbound order
is left to do), ``peak_rss_mb`` (the largest VmHWM of the hub's processes).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks import surge_effects
from orderpilot.benchmarks.scratch import (
    KEEPALIVE_S,
    Scratch,
    child_process,
    free_port,
    open_hub,
    scratch_database,
)
from orderpilot.benchmarks.surge_plan import CHANNELS, SKUS, SurgeOrder, expected_state, plan

Progress = Callable[[str, int, int], None]
SIM_DELAY_MS = 100  # every outside call answers this slowly
FAIL_EVERY = 50  # and one in fifty fails (503): 2 %
FAULTY = ("customs", "wms")  # the simulators the hub calls during the surge
CLIENTS = 48  # concurrent connections of the storefronts, WMS and carrier together
DRAIN_TIMEOUT_S = 900
RULE = {"name": "surge customs check", "trigger": {"kind": "event", "event": "payment.succeeded"},
        "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 0,
                                "currency": "CNY"}]},
        "actions": [{"id": "check", "type": "customs.check_qualification",
                     "params": {"phone": "{{ order.customer.phone }}",
                                "order_id": "{{ order.external_id }}"},
                     "on_error": {"retries": 8, "backoff_seconds": 1, "then": "fail"},
                     "on_outcome": {"not_qualified": [
                         {"id": "mark", "type": "order.tag",
                          "params": {"tags": ["qualification-pending"]}}]}}]}


def run(orders: int, minutes: float, db: str | None, progress: Progress, workers: int = 0,
        kill_worker: bool = False, seed: int = 15) -> dict[str, Any]:
    if kill_worker and workers < 1:
        raise ValueError("--kill-worker needs --workers 1 or more")
    with scratch_database(db) as scratch:
        token = _prepare(scratch)
        sim_port, hub_port = free_port(), free_port()
        with child_process(["sim", "serve", "--port", str(sim_port), "--smtp-port",
                            str(free_port())], sim_port, scratch.env(),
                           what="the simulators") as sim:
            _inject_faults(sim, orders)
            env = {**scratch.env(), "ORDERPILOT_SIM_URL": sim,
                   # (the rule runs' lease stays the default 60 s: at 20 s, on a busy machine,
                   # runners lost the leases of runs they were still working on)
                   "ORDERPILOT_CHANNEL_SCHEDULE_SECONDS": "3600"}
            with _hub(env, hub_port, workers) as hub:
                planned = plan(orders, seed)
                load = asyncio.run(_drive(hub.url, token, planned, minutes, progress,
                                          hub if kill_worker else None))
                drained, by_kind, left = _wait_drained(scratch, progress)
                result = _figures(scratch, hub.url, token, planned, sim, progress)
                rss = hub.peak_rss_mb()
        return {"database": scratch.label, "worker_processes": workers,
                "killed_worker": kill_worker, "orders": orders, "minutes": minutes,
                **load, **result,
                "backlog_drained_seconds": None if drained is None else round(drained, 1),
                "backlog_left": left,
                "backlog_last_seen_seconds": by_kind,
                "peak_rss_mb": max(rss.values()), "peak_rss_mb_by_process": rss,
                "sim_delay_ms": SIM_DELAY_MS, "sim_failed_share": round(1 / FAIL_EVERY, 3),
                "targets": {"orders": 10000, "minutes": 5, "lost": 0, "duplicated_effects": 0,
                            "state_mismatches": 0}}


def _prepare(scratch: Scratch) -> str:
    """Migrate, stock the sources for every channel, publish the rule, make a token."""
    from orderpilot.services import accounts
    from orderpilot.services.inventory import sync as inventory_sync
    from orderpilot.services.inventory.sync import LevelReport
    from orderpilot.simulators.demo_inventory import SOURCES

    hub = open_hub(scratch)
    try:
        for code, kind, zh, en, region, days, _ in SOURCES:
            inventory_sync.put_source(inventory_sync.build_source(
                code=code, kind=kind, name_zh=zh, name_en=en, region=region,
                lead_time_days=days, sync_schedule="manual", low_threshold=0),
                hub.uow, hub.clock)
        for channel in CHANNELS:  # youzan reserves on placing, the others on payment
            inventory_sync.put_strategy(inventory_sync.build_strategy(
                channel=channel, tiers=("bonded_spot", "domestic_transfer"),
                **({"allocate_on": "placed"} if channel == "youzan" else {})),
                hub.uow, hub.clock)
        inventory_sync.apply_levels("surge:levels", [
            LevelReport(code, sku, 1_000_000) for sku in SKUS
            for code in ("NB-BONDED", "HZ-DOMESTIC")], hub.uow, hub.clock, method="import")
        rule_id = hub.rules.create(RULE, "bench", key="surge-customs")
        hub.rules.publish(rule_id, "bench", "surge benchmark")
        with hub.db.write() as conn:
            return accounts.create_token(AccountRepository(conn), "surge", "ops", hub.clock,
                                         [*CHANNELS, "wms", "carrier"])[1]
    finally:
        hub.close()


def _inject_faults(sim: str, orders: int) -> None:
    """Slow answers, and a 503 for one call in FAIL_EVERY, queued for more calls than the
    surge makes of each simulator (the simulator takes the faults in turn)."""
    rounds = max(10, orders * 3 // (2 * FAIL_EVERY))
    with httpx.Client(base_url=sim, timeout=30) as http:
        for name in FAULTY:
            for _ in range(rounds):
                http.post(f"/_sim/{name}/faults", json={
                    "times": FAIL_EVERY - 1, "delay_ms": SIM_DELAY_MS}).raise_for_status()
                http.post(f"/_sim/{name}/faults", json={
                    "status": 503, "times": 1, "delay_ms": SIM_DELAY_MS}).raise_for_status()


class HubProcesses:
    """`serve` and the workers, with their pids for the peak memory and the kill."""

    def __init__(self, url: str, serve: subprocess.Popen[bytes], env: dict[str, str]) -> None:
        self.url, self.serve, self.env = url, serve, env
        self.workers: list[subprocess.Popen[bytes]] = []
        self.rss: dict[str, float] = {}

    def start_worker(self) -> None:
        self.workers.append(subprocess.Popen(
            [sys.executable, "-m", "orderpilot", "worker", "--threads", "2"], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def kill_one(self) -> None:
        """SIGKILL the first worker (its peak memory read first) and start another."""
        victim = self.workers.pop(0)
        self._note(f"worker-{victim.pid}", victim.pid)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        self.start_worker()

    def peak_rss_mb(self) -> dict[str, float]:
        self._note("serve", self.serve.pid)
        for proc in self.workers:
            self._note(f"worker-{proc.pid}", proc.pid)
        return dict(self.rss)

    def _note(self, name: str, pid: int) -> None:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                self.rss[name] = round(int(line.split()[1]) / 1024, 1)


@contextmanager
def _hub(env: dict[str, str], port: int, workers: int) -> Iterator[HubProcesses]:
    serve_env = {**env, "ORDERPILOT_EMBEDDED_DISPATCHER": "false"} if workers else env
    log = open(Path(env["ORDERPILOT_DATA_DIR"]) / "serve.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen([sys.executable, "-m", "orderpilot", "serve", "--port", str(port)],
                             env=serve_env, stdout=subprocess.DEVNULL, stderr=log)
    procs = HubProcesses(f"http://127.0.0.1:{port}", serve, env)
    try:
        _wait_healthy(procs.url, serve)
        for _ in range(workers):
            procs.start_worker()
        yield procs
    finally:
        for proc in (*procs.workers, serve):
            proc.terminate()
        for proc in (*procs.workers, serve):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start (its log: serve.log in the data "
                               "directory)")
        time.sleep(0.2)


async def _drive(base: str, token: str, planned: list[SurgeOrder], minutes: float,
                 progress: Progress, killer: HubProcesses | None) -> dict[str, Any]:
    """Each order's life as its own task, the orders' starts spread evenly over MINUTES."""
    window = minutes * 60
    counts = {"calls": 0, "retried_calls": 0, "refused_reports": 0, "acknowledged": 0}
    answered_ms: list[float] = []
    # At most CLIENTS requests in flight: the senders queue here, not in httpx's pool, whose
    # every hand-over scans all its waiters (thousands of orders' tasks made it CPU-bound).
    gate = asyncio.Semaphore(CLIENTS)
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS,
                          keepalive_expiry=KEEPALIVE_S)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        async def call(path: str, body: dict[str, Any],
                       headers: dict[str, str] | None = None) -> httpx.Response | None:
            """POST until the hub answers: a cut connection or a 5xx is tried again."""
            for attempt in range(40):
                counts["calls"] += 1
                try:
                    async with gate:
                        began = time.perf_counter()
                        answer = await http.post(path, json=body, headers=headers)
                        answered_ms.append((time.perf_counter() - began) * 1000)
                    if answer.status_code < 500 and answer.status_code != 429:
                        return answer
                except httpx.TransportError:
                    pass
                counts["retried_calls"] += 1
                await asyncio.sleep(min(0.2 * 2 ** attempt, 5))
            return None

        async def life(order: SurgeOrder, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            key = {"Idempotency-Key": f"surge:{order.external_id}"}
            for _ in range(2 if order.place_twice else 1):
                placed = await call("/api/v1/orders", order.body, key)
                if placed is None or placed.status_code >= 300:
                    continue
                order.order_id = placed.json()["id"]
            if order.order_id is None:
                return
            counts["acknowledged"] += 1
            path = f"/api/v1/orders/{order.order_id}/events"
            for report in order.reports:
                await asyncio.sleep(report.gap_s)
                for _ in range(2 if report.twice else 1):
                    answer = await call(path, {"type": report.type, "source": report.source,
                                               "source_event_id": report.event_id,
                                               "occurred_at": _now_iso()})
                    if answer is None:
                        continue
                    if answer.status_code >= 300:
                        counts["refused_reports"] += 1
                    order.sent.append(report.type if answer.status_code < 300
                                      else f"refused:{report.type}")

        started = time.perf_counter()
        tasks = [asyncio.create_task(life(o, started + window * n / len(planned)))
                 for n, o in enumerate(planned)]
        killed = False
        while not all(task.done() for task in tasks):
            await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
            progress("surge", sum(task.done() for task in tasks), len(tasks))
            if killer is not None and not killed and elapsed >= window / 2:
                await asyncio.to_thread(killer.kill_one)
                killed = True
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    answered_ms.sort()
    return {**counts, "load_seconds": round(seconds, 1),
            "hub_answer_p50_ms": round(statistics.median(answered_ms), 1),
            "hub_answer_p99_ms": round(answered_ms[max(int(len(answered_ms) * .99) - 1, 0)],
                                       1),
            "orders_per_s": round(len(planned) / seconds, 1)}


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def _wait_drained(scratch: Scratch, progress: Progress
                  ) -> tuple[float | None, dict[str, float], dict[str, int]]:
    """Seconds from now (the load stopped) until nothing is left to do (None: not within
    DRAIN_TIMEOUT_S), until each kind of work (events, rule runs, outbound orders) was last
    seen waiting, and what was left at the end."""
    began = time.perf_counter()
    engine = surge_effects.engine(scratch)
    last: dict[str, float] = {}
    try:
        while True:
            with engine.connect() as conn:
                left = surge_effects.backlog(conn)
            progress("draining", 0 if left else 1, 1)
            now = time.perf_counter() - began
            last.update({kind: round(now, 1) for kind in left})
            if not left:
                return now, last, left
            if now > DRAIN_TIMEOUT_S:
                return None, last, left
            time.sleep(0.25)
    finally:
        engine.dispose()


def _figures(scratch: Scratch, base: str, token: str, planned: list[SurgeOrder], sim: str,
             progress: Progress) -> dict[str, Any]:
    acknowledged = [o for o in planned if o.order_id is not None]
    statuses = asyncio.run(_statuses(base, token, acknowledged, progress))
    lost = sum(1 for o in acknowledged if statuses.get(o.order_id or "") is None)
    mismatches = [(o.external_id, statuses[o.order_id], expected_state(o.sent))
                  for o in acknowledged if o.order_id in statuses
                  and statuses[o.order_id] != expected_state(o.sent)]
    engine = surge_effects.engine(scratch)
    try:
        with engine.connect() as conn:
            effects = surge_effects.duplicated(conn)
            lags = surge_effects.event_to_action_ms(conn)
            runs = surge_effects.rule_runs(conn)
    finally:
        engine.dispose()
    sim_effects = surge_effects.simulator_duplicates(sim)
    duplicated = {**effects, **sim_effects}
    return {
        "lost": lost, "duplicated_effects": sum(duplicated.values()),
        "duplicated_effects_by_kind": duplicated,
        "state_mismatches": len(mismatches), "state_mismatch_examples": mismatches[:5],
        "event_to_action_p50_ms": round(statistics.median(lags), 1) if lags else None,
        "event_to_action_p99_ms": round(lags[max(int(len(lags) * 0.99) - 1, 0)], 1)
        if lags else None,
        "rule_runs": runs,
        "final_states": {s: sum(1 for v in statuses.values() if v == s)
                         for s in sorted(set(statuses.values()))},
    }


async def _statuses(base: str, token: str, orders: list[SurgeOrder],
                    progress: Progress) -> dict[str, str]:
    """Each acknowledged order's status as the API reports it (absent: not in the hub)."""
    found: dict[str, str] = {}
    queue = [o.order_id for o in orders if o.order_id]
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        async def reader() -> None:
            while queue:
                order_id = queue.pop()  # sixteen readers: no pile-up in the pool
                answer = await http.get(f"/api/v1/orders/{order_id}")
                if answer.status_code == 200:
                    found[order_id] = str(answer.json()["status"])
                progress("read back", len(orders) - len(queue), len(orders))

        await asyncio.gather(*(reader() for _ in range(16)))
    return found
