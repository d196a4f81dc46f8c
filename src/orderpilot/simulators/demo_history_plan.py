"""The demo company's past weeks, on the business's own clock: what happened to each order,
when each system saw it, and when its report reached the hub.

Unlike the live stream (demo_company.py, where a whole life plays in a minute or two), times
here are real business times: payment minutes after the order, the ERP booking on average
12 minutes after payment, delivery days later. Each report has two times, ``occurred_at`` at
the source and ``arrives_at`` at the hub (its ``recorded_at``), a few seconds to minutes apart.

The faults the seed's diagnosis found are injected on purpose, in known numbers:

* the ERP books late: the lag after payment is drawn from a gamma distribution with a mean
  of 12 minutes (shape 4, scale 3 min: p50 about 11 min, p90 about 20 min);
* some WMS callbacks are lost: the order never reports ``wms.picked`` / ``wms.packed``, the
  carrier's ``shipment.shipped`` still comes;
* ERP receivables (``erp.receivable_opened`` after booking, ``erp.receivable_closed`` when the
  platform pays out, the order is cancelled and refunded, or a return is approved): a fifth of
  the returns never get their receivable closed;
* three-way discrepancies: a receivable whose amount is not the order's total, an order shipped
  but never booked in the ERP, a second receivable opened for the same order.

Reports are untidy as in life: seconds to minutes on the way, 2% an hour or more late, 3% sent
twice.

Everything follows from the seed, so the same seed plans the same history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from orderpilot.domain.times import SHANGHAI
from orderpilot.simulators import demo_returns_plan as returns_plan
from orderpilot.simulators.demo_company import SHOPS, order_body

ERP = "kingdee"
ERP_LAG_SHAPE, ERP_LAG_SCALE_SECONDS = 4.0, 180.0  # gamma: mean 4 x 3 min = 12 min
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
# How long each kind of system takes to tell the hub (seconds, uniform), and how often late.
REPORT_LAG = {"storefront": (1.0, 8.0), ERP: (5.0, 90.0), "wms": (2.0, 30.0),
              "carrier": (30.0, 900.0), "crm": (1.0, 20.0)}
STAFF = "staff"  # the hub's own users moving a return on (not a report: no lag, never twice)
# A routable return's life after the request (seconds after the previous step, uniform):
# approved, SF's pickup booked, picked up, back at the centre, inspected, refunded, closed.
RETURN_LIFE = (("approved", 1 * 3600.0, 8 * 3600.0), ("pickup_booked", 600.0, 3600.0),
               ("in_transit", 2 * 3600.0, 30 * 3600.0), ("received", 86400.0, 3 * 86400.0),
               ("inspected", 2 * 3600.0, 12 * 3600.0), ("refunded", 3600.0, 6 * 3600.0),
               ("closed", 3600.0, 3 * 3600.0))
LATE_LAG = (30 * MINUTE, 3 * HOUR)  # e.g. an ERP sync job that stalled
RESENT_AFTER = (5.0, 300.0)  # reports a source sends twice: again after so many seconds
SETTLED = timedelta(hours=12)  # faults hit orders whose telling event is this far in the past
CARRIERS = returns_plan.CARRIER_SOURCES
STOREFRONTS = {shop.channel for shop in SHOPS}


@dataclass(frozen=True)
class FaultRates:
    """Shares of the orders that qualify (always at least one when any qualifies)."""

    lost_wms_callbacks: float = 0.03  # of shipped orders
    open_after_return: float = 0.20  # of returns
    amount_mismatch: float = 0.005  # of orders with a receivable
    never_booked: float = 0.003  # of shipped orders
    duplicate_receivable: float = 0.002  # of orders with a receivable
    late_picks: float = 0.05  # of shipped orders: the WMS's picked report after the carrier's
    returns: float = 0.06  # of delivered orders
    cancelled_after_booking: float = 0.04
    never_paid: float = 0.04
    late_reports: float = 0.02  # of reports: an hour or more on the way (a stalled sync job)
    resent_reports: float = 0.03  # of reports: sent twice by their source (the hub keeps one)


SEED_FAULTS = FaultRates()


@dataclass(frozen=True)
class Report:
    """One system's report about an order."""

    type: str
    source: str
    occurred_at: datetime
    arrives_at: datetime
    source_event_id: str
    data: dict[str, Any] = field(default_factory=dict)
    again_at: datetime | None = None  # sent a second time (a time-out the source imagined)


@dataclass
class OrderStory:
    number: int
    body: dict[str, Any]  # the order as the channel posts it
    arrives_at: datetime  # when the channel's order reaches the hub
    reports: list[Report]
    faults: set[str] = field(default_factory=set)
    # What a system did but never told the hub (the lost WMS callbacks): the system itself
    # still knows (a status check can find them: services/wms_checks.py).
    lost: list[Report] = field(default_factory=list)

    @property
    def external_id(self) -> str:
        return str(self.body["external_id"])

    def has(self, event_type: str) -> bool:
        return any(r.type == event_type for r in self.reports)

    def first(self, event_type: str) -> Report | None:
        return next((r for r in self.reports if r.type == event_type), None)

    def before(self, event_type: str, cutoff: datetime) -> bool:
        report = self.first(event_type)
        return report is not None and report.occurred_at < cutoff


def plan_history(seed: int, end: datetime, days: float, orders_per_day: float,
                 rates: FaultRates = SEED_FAULTS) -> list[OrderStory]:
    """The orders placed between ``end - days`` and six hours before ``end``, and every report
    about them that reaches the hub before ``end``, faults injected."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    last = end - timedelta(hours=6)  # the ERP has booked every paid order by ``end``
    count = max(1, round(days * orders_per_day))
    span = (last - start).total_seconds()
    placed = sorted(start + timedelta(seconds=round(rng.uniform(0, span))) for _ in range(count))
    stories = [plan_story(rng, n + 1, at, rates) for n, at in enumerate(placed)]
    inject_faults(rng, stories, rates, end - SETTLED)
    for story in stories:
        deliver(rng, story, end, rates)
    return stories


def plan_story(rng: random.Random, number: int, placed_at: datetime,
           rates: FaultRates) -> OrderStory:
    shop = rng.choices(SHOPS, weights=[s.weight for s in SHOPS])[0]
    external_id = f"{shop.prefix}H{number:06d}"
    body, _ = order_body(rng, shop, external_id, placed_at.astimezone(SHANGHAI))
    channel, total = shop.channel, str(body["total"])
    happened: list[tuple[str, str, float, dict[str, Any]]] = []
    t = 0.0

    def at(after: float, type_: str, source: str, **data: Any) -> float:
        nonlocal t
        t += after
        happened.append((type_, source, t, data))
        return t

    if rng.random() < rates.never_paid:
        at(30 * MINUTE, "order.cancelled", channel, reason="超时未支付")
        return _told(rng, number, body, placed_at, happened)
    paid = at(rng.uniform(20, 10 * MINUTE), "payment.succeeded", channel, amount=total,
              method=rng.choice(("wechat_pay", "alipay", "card")))
    lag = round(rng.gammavariate(ERP_LAG_SHAPE, ERP_LAG_SCALE_SECONDS)) or 1
    booked = paid + lag
    # As the hub's ERP worker records them: the sale order's number is the platform's.
    happened.append(("erp.booked", ERP, booked, {
        "bill_no": external_id, "erp_id": f"SO{number:07d}", "form": "SAL_SaleOrder",
        "found_by_look_up": False}))
    receivable = booked + rng.uniform(1 * MINUTE, 10 * MINUTE)
    happened.append(("erp.receivable_opened", ERP, receivable,
                     {"bill_no": f"AR-{external_id}", "order_no": external_id,
                      "amount": total, "status": "opened"}))
    if rng.random() < rates.cancelled_after_booking:
        t = max(booked, receivable)
        at(rng.uniform(5 * MINUTE, 90 * MINUTE), "order.cancelled", channel,
           reason=rng.choice(("等不及", "太贵", "拍错了", "不想要了")))
        refunded = at(rng.uniform(10 * MINUTE, 4 * HOUR), "refund.succeeded", channel,
                      amount=total)
        _close(happened, refunded + rng.uniform(30 * MINUTE, DAY), external_id, total)
        return _told(rng, number, body, placed_at, happened)
    bonded = "保税区" in str(body["shipping_address"].get("line1", ""))
    at(rng.uniform(30 * MINUTE, 2 * HOUR), "wms.released", "wms",
       warehouse="NB-BONDED" if bonded else "NB-01")
    at(rng.uniform(1 * HOUR, 4 * HOUR), "wms.picked", "wms")
    at(rng.uniform(10 * MINUTE, 40 * MINUTE), "wms.packed", "wms", parcels=1)
    shipped = returns_plan.shipment(rng, external_id)
    carrier, tracking = shipped.source, shipped.tracking_number
    at(rng.uniform(1 * HOUR, 6 * HOUR), "shipment.shipped", carrier, **shipped.data())
    at(rng.uniform(2 * HOUR, 10 * HOUR), "shipment.in_transit", carrier,
       tracking_number=tracking)
    delivered = at(rng.uniform(1 * DAY, 3 * DAY), "shipment.delivered", carrier,
                   tracking_number=tracking)
    if rng.random() < rates.returns:
        # Through the returns service: the buyer's request on the channel, then the staff's
        # moves on the hub (demo_history_returns.py plays both).
        asked = returns_plan.request(rng, body, shipped, external_id)
        requested = at(rng.uniform(1 * DAY, 5 * DAY), "return.requested", channel,
                       return_no=f"RR-{external_id}", **asked)
        # The ERP writes the original receivable off once the return is approved, within the
        # day (S8), long before the parcel is back.
        _close(happened, requested + rng.uniform(1 * HOUR, 20 * HOUR), external_id, total)
        if returns_plan.POLICY.get(shipped.outlet_code or ""):  # else a person must decide
            for target, low, high in RETURN_LIFE:
                data: dict[str, Any] = {"target": target}
                if target == "inspected":
                    data["inspection"] = returns_plan.inspection(asked["lines"], external_id)
                at(rng.uniform(low, high), f"{STAFF}:{target}", STAFF, **data)
    else:
        t = delivered
        completed = at(rng.uniform(2 * DAY, 7 * DAY), "order.completed", channel)
        _close(happened, completed + rng.uniform(1 * DAY, 3 * DAY), external_id, total)
    return _told(rng, number, body, placed_at, happened)


def _close(happened: list[tuple[str, str, float, dict[str, Any]]], when: float,
           external_id: str, amount: str) -> None:
    """The receivable written off: the platform paid out, or the order was refunded."""
    happened.append(("erp.receivable_closed", ERP, when,
                     {"bill_no": f"AR-{external_id}", "order_no": external_id,
                      "amount": amount, "written_off": amount, "status": "closed"}))


def _told(rng: random.Random, number: int, body: dict[str, Any], placed_at: datetime,
          happened: list[tuple[str, str, float, dict[str, Any]]]) -> OrderStory:
    reports = [Report(type_, source, placed_at + timedelta(seconds=round(seconds)), placed_at,
                      _event_id(type_, source, str(body["external_id"]), data), data)
               for type_, source, seconds, data in sorted(happened, key=lambda h: h[2])]
    arrives = placed_at + timedelta(seconds=round(rng.uniform(1, 5)))
    return OrderStory(number, body, arrives, reports)


def _event_id(type_: str, source: str, external_id: str, data: dict[str, Any]) -> str:
    """The source's own id of a report, as the hub's ERP worker would give it for the ERP's."""
    if type_ == "erp.booked":
        return external_id
    if type_.startswith("erp.receivable_"):
        return f"{data['bill_no']}:{data['status']}"
    if type_ == "return.requested":  # the channel's return number
        return str(data["return_no"])
    return f"{source}:{type_}:{external_id}"


def _pick(rng: random.Random, stories: list[OrderStory], share: float) -> list[OrderStory]:
    if not stories or share <= 0:
        return []
    return rng.sample(stories, max(1, round(share * len(stories))))


def inject_faults(rng: random.Random, stories: list[OrderStory], rates: FaultRates,
            cutoff: datetime) -> None:
    """Choose the orders each fault hits, in exact numbers, and change their reports. Only
    orders whose telling event happened before CUTOFF qualify, so every fault shows."""
    shipped = [s for s in stories if s.before("shipment.shipped", cutoff)]
    never_booked = _pick(rng, shipped, rates.never_booked)
    for story in never_booked:  # the ERP refused the sale order: no booking, no receivable
        story.faults.add("never_booked")
        story.reports = [r for r in story.reports if r.source != ERP]
    for story in _pick(rng, [s for s in shipped if not s.faults], rates.lost_wms_callbacks):
        story.faults.add("lost_wms_callbacks")
        story.lost = [r for r in story.reports if r.type in ("wms.picked", "wms.packed")]
        story.reports = [r for r in story.reports if r.type not in ("wms.picked", "wms.packed")]
    for story in _pick(rng, [s for s in shipped if not s.faults], rates.late_picks):
        story.faults.add("late_pick")
    billed = [s for s in stories if s.before("erp.receivable_opened", cutoff)]
    for story in _pick(rng, billed, rates.amount_mismatch):
        story.faults.add("amount_mismatch")
        total = Decimal(str(story.body["total"]))
        wrong = f"{(total * Decimal('0.9')).quantize(Decimal('0.01')):.2f}"  # 10% keyed off
        story.reports = [replace(r, data={**r.data, "amount": wrong})
                         if r.type == "erp.receivable_opened" else r for r in story.reports]
    for story in _pick(rng, [s for s in billed if "amount_mismatch" not in s.faults],
                       rates.duplicate_receivable):
        story.faults.add("duplicate_receivable")
        opened = story.first("erp.receivable_opened")
        assert opened is not None
        bill = f"{opened.data['bill_no']}-2"  # keyed in twice by hand
        again = replace(opened, occurred_at=opened.occurred_at + timedelta(minutes=47),
                        source_event_id=f"{bill}:opened", data={**opened.data, "bill_no": bill})
        story.reports = sorted([*story.reports, again], key=lambda r: r.occurred_at)
    # Requested two days before the end at least: the ERP closes the others within 20 hours
    # of the request, so a receivable open a day after its return request is one of these.
    returned = [s for s in stories
                if s.before("return.requested", cutoff - timedelta(days=2) + SETTLED)]
    for story in _pick(rng, returned, rates.open_after_return):
        story.faults.add("open_after_return")
        story.reports = [r for r in story.reports if r.type != "erp.receivable_closed"]


def _system(source: str) -> str:
    if source in STOREFRONTS:
        return "storefront"
    return "carrier" if source in CARRIERS else source


def deliver(rng: random.Random, story: OrderStory, end: datetime,
            rates: FaultRates = SEED_FAULTS) -> None:
    """Give each report its arrival at the hub, keep those that arrive before ``end``.

    The lifecycle's reports reach the hub in their order (a carrier's scan is never recorded
    before the warehouse released the order). The ERP's reports come on their own time, after
    the payment's; a late-pick order's ``wms.picked`` comes one to three hours after the
    carrier's scan reached the hub (a WMS batch upload)."""
    arrival: dict[int, datetime] = {}
    last = story.arrives_at
    picked_late = "late_pick" in story.faults
    for i, report in enumerate(story.reports):
        if report.source == STAFF:  # people on the hub: at once, after what came before
            arrival[i] = last = max(report.occurred_at, last + timedelta(seconds=1))
            continue
        low, high = REPORT_LAG[_system(report.source)]
        late = rng.random() < rates.late_reports
        lag = rng.uniform(*LATE_LAG) if late else rng.uniform(low, high)
        arrival[i] = report.occurred_at + timedelta(seconds=round(lag))
        if report.source != ERP and not (picked_late and report.type == "wms.picked"):
            arrival[i] = last = max(arrival[i], last + timedelta(seconds=1))
    paid = next((arrival[i] for i, r in enumerate(story.reports)
                 if r.type == "payment.succeeded"), story.arrives_at)
    shipped = next((arrival[i] for i, r in enumerate(story.reports)
                    if r.type == "shipment.shipped"), None)
    for i, report in enumerate(story.reports):
        if report.source == ERP:
            arrival[i] = max(arrival[i], paid + timedelta(seconds=1))
        elif picked_late and report.type == "wms.picked" and shipped is not None:
            arrival[i] = shipped + timedelta(seconds=round(rng.uniform(1 * HOUR, 3 * HOUR)))
    story.reports = [_arrived(rng, r, arrival[i], end, rates.resent_reports)
                     for i, r in enumerate(story.reports) if arrival[i] <= end]


def _arrived(rng: random.Random, report: Report, arrives_at: datetime, end: datetime,
             resent: float) -> Report:
    """A return request is taken by the returns API when it comes (the hub stamps it then) and
    a repeat is answered from the first; people's moves are not reports: neither is resent."""
    if report.source == STAFF or report.type == "return.requested":
        return replace(report, occurred_at=arrives_at, arrives_at=arrives_at)
    return replace(report, arrives_at=arrives_at, again_at=_again(rng, arrives_at, end, resent))


def _again(rng: random.Random, arrives_at: datetime, end: datetime,
           resent: float) -> datetime | None:
    if rng.random() >= resent:
        return None
    again = arrives_at + timedelta(seconds=round(rng.uniform(*RESENT_AFTER)))
    return again if again <= end else None
