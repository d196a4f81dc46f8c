"""The demo's history: played through the service layer on a simulated clock, and its truth
file says exactly what the database holds (read back through the analytics snapshot, as the
diagnosis pages read it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import require_pg
from conftest_pg import create_pg_database, drop_pg_database
from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.analytics import flow
from orderpilot.adapters.analytics.expectations import retroactive_breaches
from orderpilot.adapters.analytics.reconcile import reconcile
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.expectations import TEMPLATES as EXPECTATION_TEMPLATES
from orderpilot.domain.expectations import Expectation
from orderpilot.domain.expectations import parse as parse_expectation
from orderpilot.domain.flow import FlowFilter
from orderpilot.domain.flow_findings import duration
from orderpilot.domain.walkthrough import Params as WalkParams
from orderpilot.entrypoints.cli.demo import load_history, reset_demo
from orderpilot.simulators.demo_history import HistorySize, backfill, needs_history, truth_path
from orderpilot.simulators.demo_history_plan import FaultRates, plan_history

END = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
SIZE = HistorySize(days=10, orders_per_day=14, seed=3)
RATES = FaultRates(returns=0.3)  # enough returns in 140 orders to leave some open


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Hub, dict[str, Any], Path]]:
    """One history per database, loaded once for the module's checks (they only read)."""
    url = None
    if request.param == "postgres":
        require_pg()
        url = create_pg_database("demohist")
    data_dir = tmp_path_factory.mktemp("demo-history") / "data"
    hub = bootstrap(Settings(data_dir=data_dir, database_url=url,
                             _env_file=None))  # type: ignore[call-arg]
    try:
        migrations.upgrade(hub.db)
        yield hub, backfill(hub, data_dir, SIZE, end=END, rates=RATES), data_dir
    finally:
        hub.close()
        if url is not None:
            drop_pg_database(url)


@pytest.fixture
def history(loaded: tuple[Hub, dict[str, Any], Path]) -> tuple[Hub, dict[str, Any]]:
    return loaded[0], loaded[1]


def rows(snap: Snapshot, sql: str) -> list[tuple[Any, ...]]:
    with snap.cursor() as cur:
        return list(cur.execute(sql).fetchall())


def ids(snap: Snapshot, sql: str) -> list[str]:
    return sorted(str(r[0]) for r in rows(snap, sql))


def test_truth_file_is_what_backfill_returned(
        loaded: tuple[Hub, dict[str, Any], Path]) -> None:
    _, truth, data_dir = loaded
    assert json.loads(truth_path(data_dir).read_text(encoding="utf-8")) == truth
    assert truth["refused"] == [] and truth["orders"] == 140


def test_erp_lag_recomputed_from_events_equals_the_truth(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    snap = Snapshot(hub.db)
    snap.refresh()
    [(count, mean, p50, p90)] = rows(snap, """
        WITH paid AS (SELECT order_id, min(occurred_at) AS at FROM events
                      WHERE type = 'payment.succeeded' GROUP BY order_id),
             booked AS (SELECT order_id, min(occurred_at) AS at FROM events
                        WHERE type = 'erp.booked' AND source = 'kingdee' GROUP BY order_id),
             lag AS (SELECT epoch(booked.at - paid.at) AS s FROM paid JOIN booked USING (order_id))
        SELECT count(*), avg(s), quantile_cont(s, 0.5), quantile_cont(s, 0.9) FROM lag""")
    lag = truth["erp_lag"]
    assert count == lag["orders"] > 100
    assert (round(mean, 3), round(p50, 3), round(p90, 3)) == \
        (lag["mean_seconds"], lag["p50_seconds"], lag["p90_seconds"])
    assert 10 * 60 < lag["mean_seconds"] < 14 * 60  # drawn with a mean of 12 minutes
    [(over,)] = rows(snap, """SELECT count(*) FROM events p JOIN events b
        ON b.order_id = p.order_id AND b.type = 'erp.booked'
        WHERE p.type = 'payment.succeeded'
        AND b.occurred_at > p.occurred_at + INTERVAL 15 MINUTE""")
    assert over == lag["over_15_minutes"] > 0
    outcomes = dict(rows(snap, "SELECT outcome, count(*) FROM events WHERE type = 'erp.booked' "
                               "GROUP BY outcome"))
    assert outcomes == lag["outcomes"] and sum(outcomes.values()) == count
    # Every report reached the hub after it happened, and no report is stamped in the future.
    [(early, future)] = rows(snap, f"""
        SELECT count(*) FILTER (WHERE recorded_at < occurred_at),
               count(*) FILTER (WHERE recorded_at > TIMESTAMP '{END:%Y-%m-%d %H:%M:%S}')
        FROM events""")
    assert (early, future) == (0, 0)
    # Each system's report lag, as the board's sources table reads it.
    lags = {source: {"count": n, "p50_seconds": p50_, "p99_seconds": round(p99_, 3)}
            for source, n, p50_, p99_ in rows(snap, """
                SELECT source, count(*), quantile_cont(epoch(recorded_at - occurred_at), 0.5),
                       quantile_cont(epoch(recorded_at - occurred_at), 0.99)
                FROM events WHERE source <> 'hub' GROUP BY source""")}
    assert lags == truth["report_lag"]
    twice = dict(rows(snap, "SELECT source, count(*) FROM duplicate_reports GROUP BY source"))
    assert twice == truth["duplicates"] and sum(twice.values()) > 10
    assert 5 <= lags["kingdee"]["p50_seconds"] <= 90  # seconds to a minute after the fact


def test_faults_in_the_truth_are_exactly_those_in_the_database(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    snap = Snapshot(hub.db)
    snap.refresh()
    has = "SELECT order_id FROM events WHERE type = '{}'"
    lost = ids(snap, f"{has.format('shipment.shipped')} EXCEPT {has.format('wms.picked')}")
    assert lost == ids(snap, f"{has.format('shipment.shipped')} EXCEPT "
                             f"{has.format('wms.packed')}")
    assert lost == truth["lost_wms_callbacks"]["order_ids"] and len(lost) >= 1
    late = ids(snap, "SELECT order_id FROM events WHERE type = 'wms.picked' "
                     "AND outcome = 'late'")
    assert late == truth["late_wms_picks"]["order_ids"] and len(late) >= 1

    open_returns = ids(snap, f"""({has.format('return.requested')})
        INTERSECT ({has.format('erp.receivable_opened')})
        EXCEPT ({has.format('erp.receivable_closed')})""")
    found = truth["returns_with_open_receivable"]
    assert open_returns == found["order_ids"]
    never_closed = found["never_closed_order_ids"]
    assert never_closed and set(never_closed) <= set(open_returns)
    # A return whose receivable the ERP will still close was requested in the last day; the
    # injected ones longer ago (the expectation "return requested -> receivable closed within
    # 24 h" breaches exactly those).
    requested = dict(rows(snap, "SELECT order_id, min(occurred_at) FROM events "
                                "WHERE type = 'return.requested' GROUP BY order_id"))
    day_before = END.replace(tzinfo=None) - timedelta(days=1)
    assert sorted(i for i in open_returns if requested[i] < day_before) == never_closed
    closed_late = rows(snap, """SELECT count(*) FROM events r JOIN events c
        ON c.order_id = r.order_id AND c.type = 'erp.receivable_closed'
        WHERE r.type = 'return.requested' AND c.occurred_at > r.occurred_at + INTERVAL 1 DAY""")
    assert closed_late == [(0,)]
    amounts = rows(snap, f"""SELECT o.currency, sum(e.amount_cents) FROM events e
        JOIN orders o ON o.id = e.order_id WHERE e.type = 'erp.receivable_opened'
        AND e.order_id IN ({", ".join(f"'{i}'" for i in open_returns)}) GROUP BY o.currency""")
    assert {c: f"{cents / 100:.2f}" for c, cents in amounts} == found["open_amount"]

    wrong_amount = ids(snap, """SELECT e.order_id FROM events e JOIN orders o ON o.id = e.order_id
                                WHERE e.type = 'erp.receivable_opened'
                                AND e.amount_cents <> o.total_cents""")
    never_booked = ids(snap, f"{has.format('shipment.shipped')} EXCEPT "
                             f"{has.format('erp.booked')}")
    twice = ids(snap, """SELECT order_id FROM events WHERE type = 'erp.receivable_opened'
                         GROUP BY order_id HAVING count(*) > 1""")
    expected = truth["discrepancies"]
    assert wrong_amount == expected["amount_mismatch"]["order_ids"] and wrong_amount
    assert never_booked == expected["shipped_never_booked"]["order_ids"] and never_booked
    assert twice == expected["duplicate_receivable"]["order_ids"] and twice
    by_type = dict(rows(snap, "SELECT type, count(*) FROM events WHERE source <> 'hub' "
                              "AND type <> 'order.placed' GROUP BY type"))
    assert by_type == truth["by_type"]


def test_the_hub_handled_the_history_as_live_orders(history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    ev = t.events
    with hub.db.read() as conn:
        def orders_with(event_type: str) -> set[str]:
            return set(conn.execute(sa.select(ev.c.order_id).where(ev.c.type == event_type))
                       .scalars())
        paid, allocated = orders_with("payment.succeeded"), orders_with("inventory.allocated")
        held = sorted(conn.execute(sa.select(t.orders.c.id)
                                   .where(t.orders.c.held.is_(True))).scalars())
        pending = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE status = 'pending'")
                               ).scalar_one()
        bookings = Counter(conn.execute(sa.text("SELECT status FROM erp_bookings")).scalars())
        late_payments = {r.order_id for r in conn.execute(
            sa.select(ev.c.order_id, ev.c.occurred_at, ev.c.recorded_at)
            .where(ev.c.type == "payment.succeeded"))
            if r.recorded_at - r.occurred_at > timedelta(minutes=30)}
    # Paid orders were allocated (Youzan's on placement, so some never paid too), except where
    # the payment's report came so late that the warehouse's release reached the hub with it.
    assert len(paid) == truth["by_type"]["payment.succeeded"]
    assert paid - allocated <= late_payments and len(paid & allocated) > 0.95 * len(paid)
    # Held: only the orders whose return waits for a decision (it could not be routed).
    assert held == truth["returns"]["held_for_decision"] and pending == 0
    # The queue the payments filled is settled: the live ERP worker will not book the past.
    never = truth["discrepancies"]["shipped_never_booked"]["count"]
    assert bookings == {"booked": truth["erp_lag"]["orders"], "stopped": never}


def test_the_same_seed_plans_the_same_history() -> None:
    first = plan_history(5, END, 4, 20)
    again = plan_history(5, END, 4, 20)
    other = plan_history(6, END, 4, 20)
    assert [(s.body, s.arrives_at, s.reports, s.faults) for s in first] == \
        [(s.body, s.arrives_at, s.reports, s.faults) for s in again]
    assert [s.body for s in first] != [s.body for s in other]


def test_the_same_seed_records_the_same_events(tmp_path: Path) -> None:
    seen = []
    for run in ("a", "b"):
        hub = bootstrap(Settings(data_dir=tmp_path / run, _env_file=None))  # type: ignore[call-arg]
        migrations.upgrade(hub.db)
        truth = backfill(hub, tmp_path / run, HistorySize(days=3, orders_per_day=10, seed=9),
                         end=END)
        with hub.db.read() as conn:
            events = conn.execute(
                sa.select(t.orders.c.external_id, t.events.c.type, t.events.c.source,
                          t.events.c.occurred_at, t.events.c.recorded_at,
                          t.events.c.payload["outcome"].as_string())
                .join(t.orders, t.orders.c.id == t.events.c.order_id)
                .order_by(t.events.c.seq)).all()
        hub.close()
        seen.append((events, truth["erp_lag"], truth["by_type"]))
    assert seen[0] == seen[1] and len(seen[0][0]) > 100


def test_a_second_start_does_not_load_the_history_again(hub: Hub, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    size = HistorySize(days=2, orders_per_day=10, seed=3)
    assert needs_history(hub, data_dir)
    first = load_history(hub, data_dir, size)  # what `orderpilot demo` does on start
    assert first is not None and not needs_history(hub, data_dir)
    assert load_history(hub, data_dir, size) is None  # the restart
    with hub.db.read() as conn:
        orders = conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar_one()
    assert orders == first["orders"] == 20
    truth_path(data_dir).unlink()  # an older demo's data, without a truth: left alone too
    assert not needs_history(hub, data_dir)
    reset_demo(hub, data_dir)  # --reset
    assert needs_history(hub, data_dir)
    assert load_history(hub, data_dir, HistorySize(days=0)) is None  # --history-days 0


# --- The proof pages on the demo's history: each shows exactly what the demo injected ---

def test_the_board_says_the_erp_books_on_average_as_long_after_payment_as_injected(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    snap = Snapshot(hub.db)
    snap.refresh()
    board = flow.board(snap, FlowFilter())
    lag = truth["erp_lag"]
    [gap] = [g for g in board["elapsed"] if (g["from"], g["to"]) == ("paid", "erp_booked")]
    assert (gap["count"], gap["mean_seconds"], gap["p50_seconds"], gap["p90_seconds"]) == (
        lag["orders"], lag["mean_seconds"], lag["p50_seconds"], lag["p90_seconds"])
    zh, en = duration(lag["mean_seconds"])
    assert board["findings"][0] == {"code": "average_time.paid.erp_booked",
                                    "zh": f"ERP 平均在付款后 {zh}入账",
                                    "en": f"ERP books orders on average {en} after payment"}
    twice = {s["source"]: s["duplicates"] for s in board["sources"] if s["duplicates"]}
    assert twice == truth["duplicates"]


def _template(code: str) -> Expectation:
    [body] = [dict(t) for t in EXPECTATION_TEMPLATES if t["code"] == code]
    body.pop("code")
    return parse_expectation(code, body)


def test_the_seed_expectations_breach_exactly_the_injected_orders(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    snap = Snapshot(hub.db)
    snap.refresh()
    everything = (END - timedelta(days=400), END)
    with snap.cursor() as cur:
        booked = retroactive_breaches(cur, _template("paid_erp_booked"), *everything, as_of=END)
        closed = retroactive_breaches(cur, _template("return_receivable_closed"), *everything,
                                      as_of=END)
    never_booked = truth["discrepancies"]["shipped_never_booked"]["order_ids"]
    assert booked["count"] == truth["erp_lag"]["over_15_minutes"] + len(never_booked)
    assert set(never_booked) <= {i["order_id"] for i in booked["items"]}
    never_closed = truth["returns_with_open_receivable"]["never_closed_order_ids"]
    assert sorted(i["order_id"] for i in closed["items"]) == sorted(never_closed)
    assert closed["count"] == len(never_closed)


def test_the_reconciliation_finds_the_injected_discrepancies(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    snap = Snapshot(hub.db)
    snap.refresh()
    with snap.cursor() as cur:
        found = reconcile(cur, (END - timedelta(days=30)).date(), END.date())
    by_kind: dict[str, set[str]] = {}
    for d in found.discrepancies:
        by_kind.setdefault(d.kind, set()).add(str(d.order_id))
    injected = truth["discrepancies"]
    assert by_kind.get("amount_mismatch") == set(injected["amount_mismatch"]["order_ids"])
    assert by_kind.get("duplicate_receivable") == set(
        injected["duplicate_receivable"]["order_ids"])
    assert by_kind.get("missing_in_erp") == set(injected["shipped_never_booked"]["order_ids"])
    assert by_kind.get("missing_in_wms") == set(truth["lost_wms_callbacks"]["order_ids"])
    assert by_kind.get("returned_but_receivable_open") == set(
        truth["returned_or_refunded_with_open_receivable"]["order_ids"]) >= set(
        truth["returns_with_open_receivable"]["order_ids"])
    assert by_kind.pop("receivable_without_shipment", set()) == set(
        truth["cancelled_with_open_receivable"]["order_ids"])
    assert set(by_kind) == {"amount_mismatch", "duplicate_receivable", "missing_in_erp",
                            "missing_in_wms", "returned_but_receivable_open"}
    assert found.orders == truth["orders"]


def test_a_walkthrough_of_100_demo_orders_reports_what_the_demo_injected(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    run = hub.walkthrough().run(WalkParams(100, 7), "ops", None, pii=True)
    walked = {o["order_id"]: o for o in run.result["orders"]}
    assert len(walked) == 100
    injected = {
        "erp amount": set(truth["discrepancies"]["amount_mismatch"]["order_ids"]),
        "erp missing": set(truth["discrepancies"]["shipped_never_booked"]["order_ids"]),
        "wms missing": set(truth["lost_wms_callbacks"]["order_ids"])}
    reported: dict[str, set[str]] = {key: set() for key in injected}
    for order_id, walk in walked.items():
        for f in walk["findings"]:
            system = "erp" if f["system"] == "erp_receivable" else f["system"]
            key = f"{system} {f['field']}"
            if key in reported:
                reported[key].add(order_id)
    for key, orders in injected.items():
        assert reported[key] == orders & set(walked), key
    inconsistent = {i for i, o in walked.items() if not o["consistent"]}
    assert inconsistent == set().union(*reported.values())
    summary = run.result["summary"]
    assert summary["en"].startswith(f"{100 - len(inconsistent)}/100 consistent")


# --- Returns (issue 13): what the returns service took and where the routes sent them ---

def test_the_returns_in_the_truth_are_those_in_the_database(
        history: tuple[Hub, dict[str, Any]]) -> None:
    from orderpilot.simulators.demo_returns_plan import CENTRES, POLICY

    hub, truth = history
    known = truth["returns"]
    with hub.db.read() as conn:
        returns = conn.execute(sa.select(t.returns)).all()
        routes = {r.return_id: r for r in conn.execute(sa.select(t.return_routes))}
        lines = conn.execute(sa.select(t.return_lines)).all()
        shipped = {o: q for o, q in conn.execute(
            sa.select(t.order_lines.c.order_id, sa.func.sum(t.order_lines.c.quantity))
            .group_by(t.order_lines.c.order_id)).all()}
        currency = dict(conn.execute(sa.select(t.orders.c.id, t.orders.c.currency)).all())
        policy = dict(conn.execute(sa.select(t.return_policy_rows.c.outlet_code,
                                             t.return_policy_rows.c.return_centre)).all())
        holds = sorted(conn.execute(sa.text(
            "SELECT order_id FROM holds WHERE reason = 'return_decision_required' "
            "AND released_at IS NULL")).scalars())
    assert policy == POLICY and known["count"] == len(returns) >= 10
    assert dict(Counter(r.status for r in returns)) == known["by_status"]
    assert dict(Counter(r.reasons_from for r in returns)) == known["reasons_from"]
    assert known["reasons_from"].get("keywords", 0) > 0  # free text the jieba keywords tagged
    assert dict(Counter(tag for r in returns for tag in r.reason_tags)) == known["by_reason"]
    units = Counter[str]()
    for line in lines:
        units[line.return_id] += line.quantity
    partial = [r.id for r in returns if units[r.id] < shipped[r.order_id]]
    assert len(partial) == known["partial"] > 0
    # Every return has a route: routed to the centre the policy names for its outlet, or
    # waiting for a decision with the reason; the buyer's typed address is kept.
    assert set(routes) == {r.id for r in returns}
    routed = [x for x in routes.values() if not x.decision_required]
    assert len(routed) == known["routed"]
    assert all(x.return_centre == POLICY[x.outlet_code]
               and x.address == CENTRES[x.return_centre]["address"] for x in routed)
    right = sum(1 for x in routed if x.customer_address == x.address)
    assert right == known["typed_address_right"] < len(routed)
    unroutable = sorted(x.return_id for x in routes.values() if x.decision_required)
    assert unroutable == known["unroutable"]["return_ids"] and unroutable
    assert dict(Counter(routes[r].exception_reason for r in unroutable)) == \
        known["unroutable"]["reasons"]
    assert holds == known["held_for_decision"] and holds
    refunded = [r for r in returns if r.refund_cents is not None]
    amounts = Counter[str]()
    for r in refunded:
        amounts[currency[r.order_id]] += r.refund_cents
    assert len(refunded) == known["refunded"]["count"] > 0
    assert {c: f"{n / 100:.2f}" for c, n in amounts.items()} == known["refunded"]["amount"]
    assert known["by_status"].get("closed", 0) > 0  # some went through the whole life


# --- Issue 14: the orders a person fixed are the manual interventions ---

def test_the_orders_staff_fixed_are_in_the_audit_trail_as_sim_ops(
        history: tuple[Hub, dict[str, Any]]) -> None:
    hub, truth = history
    fixed = truth["fixed_by_staff"]
    assert fixed["address_incomplete"]["count"] > 0
    with hub.db.read() as conn:
        released = {r.order_id: r.actor for r in conn.execute(
            sa.select(t.audit_log.c.order_id, t.audit_log.c.actor)
            .where(t.audit_log.c.action == "hold.release"))}
        held = conn.execute(sa.select(sa.func.count()).select_from(t.holds).where(
            t.holds.c.reason.in_(("address_incomplete", "customs_check")),
            t.holds.c.released_at.is_(None))).scalar_one()
    ids = {i for listing in fixed.values() for i in listing["order_ids"]}
    assert set(released) == ids and set(released.values()) == {"sim-ops-1"}
    assert held == 0  # every one was released before the warehouse's release came
