"""The demo's past weeks, played into a fresh hub through its service layer on a simulated
clock, and the truth about what was injected written beside the data.

Each order and report goes through ``ordering.place_order`` / ``ordering.report_event`` at the
moment it reaches the hub (the clock reads its ``arrives_at``, so ``recorded_at`` is that
time and ``occurred_at`` the source's), and the hub's dispatcher runs on the same clock between
arrivals: allocation, the ERP booking queue, outbound orders, waybills and the rule triggers
handle the history as they handle live orders. The warehouse reports its counts every morning
of the history (the demo's usual levels are set once the history is in). The ERP's part is
played by the history: its bookings are settled in the hub's booking queue at the end (booked,
or stopped for the orders it never booked), so the live ERP worker does not book the past again.

``<data_dir>/demo/truth.json`` holds what the history injected and what the hub recorded
of it: the ERP's lag after payment (mean, p50, p90), the orders whose WMS callbacks were lost,
the returns whose receivable stays open (and the open amount), the three-way discrepancies.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from orderpilot.simulators import demo_history_returns as history_returns
from orderpilot.simulators.company import play
from orderpilot.simulators.company.plan import HOLDS, hold_for_people
from orderpilot.simulators.company.play import (
    HistoryStopped,
    Progress,
    Recorded,
    Setup,
    SimulatedClock,
)
from orderpilot.simulators.company.profiles import DEMO
from orderpilot.simulators.demo_history_plan import (
    ERP_LAG_SCALE_SECONDS,
    ERP_LAG_SHAPE,
    SEED_FAULTS,
    STAFF,
    FaultRates,
    OrderStory,
    Report,
    plan_history,
)

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub

log = structlog.get_logger("orderpilot.demo")
TRUTH_FILE = Path("demo") / "truth.json"
WORKER = "demo-history"
PEOPLE = (STAFF, HOLDS)  # the hub's users and its systems' holds: not reports of a source
SETUP = Setup()  # the history's stock never runs short; the shops reserve as the demo's do
__all__ = ["HistoryStopped", "SimulatedClock", "backfill", "HistorySize", "needs_history",
           "truth_path", "Progress"]


@dataclass(frozen=True)
class HistorySize:
    days: float = 14.0
    orders_per_day: float = 100.0
    seed: int = 7


def truth_path(data_dir: Path) -> Path:
    return data_dir / TRUTH_FILE


def needs_history(hub: Hub, data_dir: Path) -> bool:
    """A fresh demo: no truth written and no order in the database."""
    from orderpilot.adapters import tables as t

    if truth_path(data_dir).exists():
        return False
    with hub.db.read() as conn:
        return conn.execute(t.orders.select().limit(1)).first() is None


def backfill(hub: Hub, data_dir: Path, size: HistorySize = HistorySize(), *,
             end: datetime | None = None, rates: FaultRates = SEED_FAULTS,
             progress: Progress | None = None,
             stop: threading.Event | None = None) -> dict[str, Any]:
    """Play the history into HUB (fresh), write and return the truth; STOP set on the way
    raises HistoryStopped."""
    end = (end or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stories = plan_history(size.seed, end, size.days, size.orders_per_day, rates)
    # Its own draws, so the history's orders and reports are what they were without them.
    hold_for_people(random.Random(f"{size.seed}:{DEMO.name}"), stories, DEMO)
    clock = SimulatedClock(end - timedelta(days=size.days))
    with hub.db.bulk_load():
        play.stock_sources(hub, clock, SETUP)
        history_returns.install_registers(hub, clock)
        recorded = play.play(hub, clock, stories, SETUP, progress, stop)
        clock.now = end
        history_returns.hold_undecided(hub, clock, recorded.returns)
        play.drain(hub, clock)
        _settle_bookings(hub, clock, stories, recorded)
    truth = build_truth(stories, recorded, size, end)
    path = truth_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def _settle_bookings(hub: Hub, clock: SimulatedClock, stories: list[OrderStory],
                     recorded: Recorded) -> None:
    """The history's ERP did its bookings: mark them in the queue the payments filled, so the
    live ERP worker leaves the past alone; the ones it never booked are stopped, as a refusal
    by the ERP would stop them, and show among the bookings that need staff."""
    booked: dict[str, str] = {}
    for story in stories:
        report = story.first("erp.booked")
        if report is not None and recorded.got(story, report):
            booked[recorded.order_ids[story.number]] = str(report.data["erp_id"])
    with hub.uow() as uow:
        claimed = uow.back_office.claim(WORKER, len(stories) + 1, timedelta(minutes=5),
                                        clock())
        for booking in claimed:
            if booking.order_id in booked:
                uow.back_office.booked(booking.order_id, WORKER, booked[booking.order_id],
                                       clock())
            else:
                uow.back_office.stop(booking.order_id, WORKER, "the ERP never booked this sale "
                                     "order (demo history: an injected fault)", clock())


def _fix(story: OrderStory) -> Report | None:
    return story.first(f"{STAFF}:release_hold")


def _placed_at(story: OrderStory) -> datetime:
    return datetime.fromisoformat(str(story.body["placed_at"]))


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear between the closest ranks (duckdb's quantile_cont, numpy's default)."""
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def build_truth(stories: list[OrderStory], recorded: Recorded, size: HistorySize,
                end: datetime) -> dict[str, Any]:
    """What the pages must report, from what the hub accepted (a refused report counts for
    nothing)."""
    ids = recorded.order_ids

    def with_(fault: str, shown_by: str) -> list[OrderStory]:
        return [s for s in stories if fault in s.faults
                and all(recorded.got(s, r) for r in s.reports if r.type == shown_by)
                and s.has(shown_by)]

    def outcome(story: OrderStory, event_type: str) -> str | None:
        report = story.first(event_type)
        return None if report is None else \
            recorded.outcomes.get((story.number, report.source_event_id))

    def listing(found: list[OrderStory], **extra: Any) -> dict[str, Any]:
        return {"count": len(found), "order_ids": sorted(ids[s.number] for s in found),
                **extra}

    lags = sorted(float((booked.occurred_at - paid.occurred_at).total_seconds())
                  for s in stories
                  if (paid := s.first("payment.succeeded")) and recorded.got(s, paid)
                  and (booked := s.first("erp.booked")) and recorded.got(s, booked))
    # Returns whose receivable is open at the end: the injected ones never close; the others
    # were requested too recently for the ERP's write-off to have come.
    open_returns = [s for s in stories
                    if recorded.got(s, s.first("return.requested"))
                    and recorded.got(s, s.first("erp.receivable_opened"))
                    and not recorded.got(s, s.first("erp.receivable_closed"))]
    # What reconciliation calls "returned but receivable open": a return requested or a refund
    # (a cancellation's too) on an order with any receivable bill still open.
    def open_bills(story: OrderStory) -> set[str]:
        kept = [r for r in story.reports if recorded.got(story, r)]
        return {str(r.data["bill_no"]) for r in kept if r.type == "erp.receivable_opened"} - \
            {str(r.data["bill_no"]) for r in kept if r.type == "erp.receivable_closed"}

    refunded_open = [s for s in stories if open_bills(s) and any(
        recorded.got(s, r) for r in s.reports
        if r.type in ("return.requested", "refund.succeeded"))]
    open_amounts: dict[str, Decimal] = defaultdict(Decimal)
    for story in open_returns:
        opened = story.first("erp.receivable_opened")
        assert opened is not None
        open_amounts[str(story.body["currency"])] += Decimal(str(opened.data["amount"]))
    late_picks = [s for s in stories
                  if "late_pick" in s.faults and outcome(s, "wms.picked") == "late"]
    types = Counter(r.type for s in stories for r in s.reports
                    if recorded.got(s, r) and r.source not in PEOPLE)
    report_lags: dict[str, list[float]] = defaultdict(list)
    for story in stories:
        if story.number in ids:
            report_lags[str(story.body["channel"])].append(
                float((story.arrives_at - _placed_at(story)).total_seconds()))
        for report in story.reports:
            if recorded.got(story, report) and report.source not in PEOPLE:
                report_lags[report.source].append(
                    float((report.arrives_at - report.occurred_at).total_seconds()))
    return {
        "seed": size.seed, "days": size.days, "orders_per_day": size.orders_per_day,
        "since": (end - timedelta(days=size.days)).isoformat(), "until": end.isoformat(),
        "orders": len(ids), "reports": sum(types.values()), "by_type": dict(sorted(types.items())),
        "refused": recorded.refused,
        "erp_lag": {"distribution": f"gamma(shape={ERP_LAG_SHAPE:g}, "
                                    f"scale={ERP_LAG_SCALE_SECONDS:g} s)",
                    "from": "payment.succeeded", "to": "erp.booked", "orders": len(lags),
                    "mean_seconds": round(statistics.fmean(lags), 3) if lags else 0.0,
                    "p50_seconds": round(quantile(lags, 0.5), 3),
                    "p90_seconds": round(quantile(lags, 0.9), 3),
                    "over_15_minutes": sum(1 for s in lags if s > 15 * 60),
                    # how the hub took each erp.booked: "moved" the order, or "late" (the order
                    # had passed erp_booked already, e.g. allocated first)
                    "outcomes": dict(sorted(Counter(
                        outcome(s, "erp.booked") for s in stories
                        if recorded.got(s, s.first("erp.booked"))).items()))},
        # per reporting source (order.placed included): recorded_at - occurred_at
        "report_lag": {source: {"count": len(seconds), "p50_seconds": quantile(seconds, 0.5),
                                "p99_seconds": round(quantile(seconds, 0.99), 3)}
                       for source, seconds in sorted((source, sorted(lags_))
                                                     for source, lags_ in report_lags.items())},
        # reports a source sent twice (the hub kept one), by source
        "duplicates": {k: n for k, n in sorted(recorded.duplicates.items()) if n},
        "lost_wms_callbacks": listing(with_("lost_wms_callbacks", "shipment.shipped")),
        "late_wms_picks": listing(late_picks),
        "returns_with_open_receivable": listing(
            open_returns, open_amount={c: f"{a:.2f}" for c, a in sorted(open_amounts.items())},
            never_closed_order_ids=sorted(ids[s.number] for s in open_returns
                                          if "open_after_return" in s.faults)),
        "returned_or_refunded_with_open_receivable": listing(refunded_open),
        # cancelled in the last day: the ERP has not closed the receivable yet
        "cancelled_with_open_receivable": listing([
            s for s in stories if open_bills(s) and recorded.got(s, s.first("order.cancelled"))]),
        "discrepancies": {
            "amount_mismatch": listing(with_("amount_mismatch", "erp.receivable_opened")),
            "shipped_never_booked": listing(with_("never_booked", "shipment.shipped")),
            "duplicate_receivable": listing(with_("duplicate_receivable",
                                                  "erp.receivable_opened")),
        },
        # the returns service's answers: counts, routes, the unroutable and refunds
        "returns": recorded.returns.truth(),
        # held by a system (the courier's address check, customs), released by sim-ops-1:
        # each order here has its audit_log rows (the manual interventions)
        "fixed_by_staff": {reason: listing([s for s in stories if reason in s.faults
                                            and recorded.got(s, _fix(s))])
                           for reason in ("address_incomplete", "customs_check")},
    }
