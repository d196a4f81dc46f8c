"""`orderpilot bench rules`: condition evaluation through the rule book against zen-engine
called directly on the same expressions, and event-to-action latency under a sustained event
rate on the embedded default with the simulators."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
import zen

from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks import cpu
from orderpilot.benchmarks.load import LoadClient, LoadError
from orderpilot.benchmarks.scratch import (
    Scratch,
    child_process,
    free_port,
    hub_process,
    open_hub,
    read_counters,
    scratch_database,
    statements_per_order,
    workers,
)
from orderpilot.bootstrap import Hub
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.order import Order, OrderLine
from orderpilot.services import accounts
from orderpilot.services.rules import context as rule_context

Progress = Callable[[str, int, int], None]
RULES = 100
WARM_UP_SECONDS = 3.0
WARM_UP_FIRST = 1_000_000  # warm-up orders are numbered apart from the measured ones


def bench_rule(i: int) -> dict[str, Any]:
    """One of 100 varied rules on payment.succeeded (typed operators of several kinds)."""
    leaves: list[dict[str, Any]] = [
        {"field": "order.total", "op": "gt", "value": 100 + 10 * i},
        {"field": "order.address.flags", "op": "has", "value": "bonded_zone"},
        {"field": "order.channel", "op": "in", "value": ["youzan", "shopee", "lazada"]},
        {"field": "order.customer.phone", "op": "starts_with", "value": f"13{i % 10}"},
    ]
    if i % 3 == 0:
        leaves.append({"field": "order.skus", "op": "has_any", "value": ["MILK-900", f"S{i}"]})
    if i % 4 == 0:
        leaves.append({"field": "order.address.line1", "op": "contains", "value": "保税"})
    return {"name": f"bench rule {i}", "trigger": {"kind": "event", "event": "payment.succeeded"},
            "conditions": {"all" if i % 2 else "any": leaves},
            "actions": [{"id": "mark", "type": "order.tag", "params": {"tags": [f"b{i}"]}}]}


def sample_context() -> dict[str, Any]:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    order = Order("o-1", "youzan", "wx-mini", "E1", now, "CNY", Customer("李四", "13800000002"),
                  Address.normalised("CN", "浙江省", "宁波市", "北仑区", "保税区港城大道1号"),
                  [OrderLine("MILK-900", 2, Decimal("300.00"))],
                  Decimal("600.00"))
    event = OrderEvent("o-1", "payment.succeeded", "youzan", now, now, {"data": {}})
    return rule_context.build(event, rule_context.order_context(order, {}, []), now)


def condition_rates(hub: Hub, seconds: float, progress: Progress) -> dict[str, Any]:
    for i in range(RULES):
        rule_id = hub.rules.create(bench_rule(i), "bench", key=f"bench-{i:03d}")
        hub.rules.publish(rule_id, "bench", "benchmark")
        progress("rules", i + 1, RULES)
    with hub.uow() as uow:
        hub.book.refresh(uow)
    rules = hub.book.candidates("payment.succeeded")
    assert len(rules) == RULES
    context = sample_context()
    # The fairest baseline is zen used the way the book uses it: the candidates' conditions
    # joined into one list expression, compiled once, one call per event.
    batched = zen.compile_expression(
        "[" + ", ".join(r.definition.condition_expression for r in rules) + "]")
    separate = [zen.compile_expression(r.definition.condition_expression) for r in rules]

    bodies = {"ours": lambda: hub.book.matching(rules, context),
              "batched": lambda: batched.evaluate(context),
              "separate": lambda: [c.evaluate(context) for c in separate]}
    rates = _interleaved(bodies, seconds)
    ours, raw, one_by_one = rates["ours"], rates["batched"], rates["separate"]
    matched = len(hub.book.matching(rules, context))
    assert sum(v is True for v in batched.evaluate(context)) == matched
    return {"rules": RULES, "rules_matching_sample": matched,
            "condition_evals_per_s": round(ours), "raw_engine_evals_per_s": round(raw),
            "raw_engine_mode": "batched", "ratio": round(ours / raw, 3),
            "raw_engine_separate_calls_evals_per_s": round(one_by_one)}


def _interleaved(bodies: dict[str, Callable[[], Any]], seconds: float) -> dict[str, float]:
    """Evaluations per second of each body, timed in alternating slices of 50 calls, so a
    neighbour's load on the machine weighs on all of them alike."""
    for body in bodies.values():
        for _ in range(50):  # warm-up
            body()
    spent = dict.fromkeys(bodies, 0.0)
    rounds = 0
    deadline = time.perf_counter() + seconds * len(bodies)
    while time.perf_counter() < deadline:
        for name, body in bodies.items():
            started = time.perf_counter()
            for _ in range(50):
                body()
            spent[name] += time.perf_counter() - started
        rounds += 50
    return {name: rounds * RULES / took for name, took in spent.items()}


def simulators() -> Any:
    """`orderpilot sim serve` in a child process; yields its URL."""
    port = free_port()
    return child_process(["sim", "serve", "--port", str(port), "--smtp-port", str(free_port())],
                         port, what="the simulators")


def order_body(i: int, phone: str) -> dict[str, Any]:
    return {"channel": "youzan", "shop_id": "wx-mini", "external_id": f"L{i:07d}",
            "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
            "customer": {"name": "李四", "phone": phone},
            "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                                 "district": "北仑区", "line1": f"保税区港城大道{i}号",
                                 "postal_code": "315800"},
            "lines": [{"sku": "MILK-900", "quantity": 1, "unit_price": "600.00"}],
            "total": "600.00"}


async def _drive(base: str, token: str, rate: float, seconds: float, sim: str,
                 progress: Progress, first: int = 0) -> dict[str, Any]:
    """Place and pay orders at ``rate`` events per second (two events an order), numbered
    from ``first``."""
    orders = int(rate * seconds / 2)
    interval = 2 / rate
    errors = 0
    kinds: dict[str, int] = {}  # what went wrong, so a slow hub is told from a refusing one

    def count(kind: str) -> None:
        nonlocal errors
        errors += 1
        kinds[kind] = kinds.get(kind, 0) + 1

    async with LoadClient(base, headers={"Authorization": f"Bearer {token}"},
                          connections=64) as http, \
            httpx.AsyncClient(base_url=sim, timeout=10) as admin:
        async def one(i: int) -> None:
            try:
                await place_and_pay(i)
            except LoadError as error:
                count(error.kind)

        async def qualify(i: int) -> None:
            await admin.post("/_sim/customs/qualified", json={"phone": f"139{i:08d}"})

        # Nine buyers in ten are qualified: only the customs check runs. The simulator is told
        # before the clock starts, so the load generator's CPU goes to the hub's load only
        # (this machine has two cores for everything).
        qualified = [i for i in range(first, first + orders) if i % 10]
        for start in range(0, len(qualified), 50):
            await asyncio.gather(*(qualify(i) for i in qualified[start:start + 50]))
            progress("simulator set-up", start, len(qualified))

        async def place_and_pay(i: int) -> None:
            phone = f"139{i:08d}"
            placed = await http.post("/api/v1/orders", order_body(i, phone))
            if placed.status_code not in (200, 201):
                count(f"order {placed.status_code}")
                return
            paid = await http.post(f"/api/v1/orders/{placed.json()['id']}/events", {
                "type": "payment.succeeded", "source": "youzan",
                "source_event_id": f"pay-{i}", "occurred_at": "2026-11-26T10:01:00+08:00"})
            if paid.status_code not in (200, 201):
                count(f"payment {paid.status_code}")

        tasks = []
        started = time.perf_counter()
        cpu = time.process_time()
        for n, i in enumerate(range(first, first + orders)):
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
            if n % 50 == 0:
                progress("sustained load", n, orders)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return {"orders": orders, "events_per_s": round(2 * orders / elapsed, 1),
            "load_errors": errors, "load_error_kinds": kinds,
            "load_generator_cpu_ms_per_request": round(cpu * 1000 / (2 * orders), 2)}


def latency(scratch: Scratch, rate: float, seconds: float, progress: Progress,
            worker_processes: int = 0) -> dict[str, Any]:
    with simulators() as sim:
        os.environ["ORDERPILOT_SIM_URL"] = sim
        os.environ["ORDERPILOT_SMS_RATE_PER_SECOND"] = "500"
        try:
            hub = open_hub(scratch)
            try:
                hub.rules.install_template("bonded-zone-customs-check", "bench", enable=True)
                with hub.db.write() as conn:
                    token = accounts.create_token(AccountRepository(conn), "bench", "ops",
                                                  hub.clock, ["youzan"])[1]
            finally:
                hub.close()
            ports = [free_port() for _ in range(worker_processes)]
            with (hub_process(scratch, free_port(), beside_workers=worker_processes > 0)
                  as base, workers(scratch, worker_processes, ports)):
                # Warm-up, not counted: the processes' first seconds (connections opened,
                # statements prepared, caches filled) would otherwise be the p99 of a short
                # run. Measured: at 30 events/s with one worker, every run over 250 ms was
                # in the first second.
                warm_up = asyncio.run(_drive(base, token, rate, WARM_UP_SECONDS, sim, progress,
                                             first=WARM_UP_FIRST))
                _wait_until_done(scratch, progress)
                measured_from = datetime.now(UTC)
                before = read_counters(base, token, ports)
                with cpu.measure() as used:
                    load = asyncio.run(_drive(base, token, rate, seconds, sim, progress))
                    _wait_until_done(scratch, progress)
                statements = statements_per_order(before, read_counters(base, token, ports),
                                                  load["orders"])
        finally:
            os.environ.pop("ORDERPILOT_SIM_URL", None)
            os.environ.pop("ORDERPILOT_SMS_RATE_PER_SECOND", None)
    hub = open_hub(scratch)
    try:
        with hub.db.read() as conn:
            rows = conn.execute(
                sa.select(t.rule_runs.c.event_recorded_at, t.rule_attempts.c.finished_at,
                          t.rule_runs.c.created_at)
                .join(t.rule_runs, t.rule_runs.c.id == t.rule_attempts.c.run_id)
                .where(t.rule_attempts.c.step_no == 0, t.rule_attempts.c.status == "ok",
                       t.rule_runs.c.event_recorded_at >= measured_from)).all()
            statuses: dict[str, int] = dict(conn.execute(
                sa.select(t.rule_runs.c.status, sa.func.count())
                .where(t.rule_runs.c.event_recorded_at >= measured_from)
                .group_by(t.rule_runs.c.status)).all())
            sms = conn.execute(
                sa.select(sa.func.count()).select_from(t.rule_attempts)
                .join(t.rule_runs, t.rule_runs.c.id == t.rule_attempts.c.run_id)
                .where(t.rule_attempts.c.action == "sms.send", t.rule_attempts.c.status == "ok",
                       t.rule_runs.c.event_recorded_at >= measured_from)).scalar()
    finally:
        hub.close()
    lags = sorted((done - recorded).total_seconds() * 1000 for recorded, done, _ in rows)
    matching = sorted((made - recorded).total_seconds() * 1000 for recorded, _, made in rows)
    if not lags:
        raise RuntimeError(f"no rule actions were carried out (runs: {statuses})")
    return {**load, "warm_up_orders": warm_up["orders"], "cpu": used.as_json(load["orders"]),
            "sql_statements_per_order": statements,
            "runs": {k: int(v) for k, v in statuses.items()}, "sms_sent": sms,
            "event_to_action_p50_ms": round(statistics.median(lags), 1),
            "event_to_action_p99_ms": round(lags[max(int(len(lags) * 0.99) - 1, 0)], 1),
            "event_to_action_max_ms": round(lags[-1], 1),
            "event_to_run_recorded_p50_ms": round(statistics.median(matching), 1),
            "event_to_run_recorded_p99_ms": round(
                matching[max(int(len(matching) * 0.99) - 1, 0)], 1)}


def _wait_until_done(scratch: Scratch, progress: Progress, timeout: float = 120) -> None:
    hub = open_hub(scratch)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with hub.db.read() as conn:
                backlog = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar()
                pending = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)
                                       .where(t.rule_runs.c.status == "pending")).scalar()
            progress("draining", 0 if backlog or pending else 1, 1)
            if not backlog and not pending:
                return
            time.sleep(0.5)
    finally:
        hub.close()


def run(rate: float, seconds: float, eval_seconds: float, db_url: str | None,
        progress: Progress, worker_processes: int = 0) -> dict[str, Any]:
    with scratch_database(db_url) as scratch:
        hub = open_hub(scratch)
        try:
            conditions = condition_rates(hub, eval_seconds, progress)
        finally:
            hub.close()
    with scratch_database(db_url) as scratch:
        timing = latency(scratch, rate, seconds, progress, worker_processes)
        label = scratch.label
    return {"database": label, **conditions, "sustained_events_per_s_target": rate,
            "seconds": seconds, "worker_processes": worker_processes, **timing}


P99_BOUND_MS = 500.0


def run_curve(rates: list[float], seconds: float, db_url: str | None, progress: Progress,
              worker_processes: int = 0) -> dict[str, Any]:
    """The latency run at each rate (a fresh scratch database each), lowest first, stopping
    after the first rate that misses the bound: the sustained rate is the highest offered
    rate whose event-to-action p99 stayed <= 500 ms with no load errors."""
    steps = []
    sustained = 0.0
    p99_at_sustained: float | None = None
    for rate in rates:
        with scratch_database(db_url) as scratch:
            timing = latency(scratch, rate, seconds, progress, worker_processes)
            label = scratch.label
        met = timing["event_to_action_p99_ms"] <= P99_BOUND_MS and not timing["load_errors"]
        steps.append({"rate": rate, "events_per_s": timing["events_per_s"],
                      "event_to_action_p50_ms": timing["event_to_action_p50_ms"],
                      "event_to_action_p99_ms": timing["event_to_action_p99_ms"],
                      "load_errors": timing["load_errors"], "within_bound": met,
                      "machine_busy_cores": timing["cpu"].get("machine_busy_cores"),
                      "cpu_ms_per_order": timing["cpu"].get("ms_per_order"),
                      "sql_statements_per_order": timing["sql_statements_per_order"]})
        if not met:
            break
        if float(timing["events_per_s"]) >= sustained:
            sustained = float(timing["events_per_s"])
            p99_at_sustained = timing["event_to_action_p99_ms"]
    return {"database": label, "worker_processes": worker_processes, "seconds": seconds,
            "p99_bound_ms": P99_BOUND_MS, "sustained_events_per_s": sustained,
            "event_to_action_p99_ms": p99_at_sustained, "curve": steps}
