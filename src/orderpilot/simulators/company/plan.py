"""The simulated company's orders and faults, from a profile and a seed.

The orders are placed over ``days`` from ``start``; every report about them that reaches the
hub before ``horizon`` is kept (the simulation plays on after the last order until deliveries
and returns are done, so the fulfilment cycle can be measured). Each order's life is the
demo history's (demo_history_plan: payment, the ERP's booking after its gamma lag,
receivables, the warehouse, the carrier, returns), and on top of it the profile's faults:

* wrong addresses: a mainland buyer who typed only a housing estate (demo_company._address
  draws one in twenty): the courier's address check holds the order
  (``address_incomplete``) minutes after payment, staff fix it with the buyer and release it
  before the warehouse releases the order; with no such fault the address is completed;
* customs refusals: the cross-border filing of a mainland order is refused (``customs_check``
  hold placed by the customs system), staff verify the buyer's identity and release it;
* stock-outs: a SKU is counted at zero in every sellable warehouse at a moment of the day
  until the next morning's count; the orders for it placed in between go out of stock, are
  allocated again after the count and only then released to the warehouse;
* carrier updates out of order: the in-transit scan reaches the hub after the delivery;
* promotions: a share of the orders placed in the evening live-stream hour (a burst).

The same seed and profile plan the same company, report for report.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from orderpilot.simulators.company.profiles import Profile
from orderpilot.simulators.demo_company import PRODUCTS
from orderpilot.simulators.demo_history_plan import (
    SETTLED,
    OrderStory,
    Report,
    deliver,
    inject_faults,
    plan_story,
)

HOLDS = "holds"  # a system placing a hold (the courier's address check, customs)
STAFF = "staff"  # the company's ops staff acting on the hub (demo_history_plan.STAFF)
PROMOTION_HOUR = 12  # UTC: 20:00 in Shanghai, the live stream's hour
COMPLETE = {"province": "浙江省", "city": "宁波市", "district": "鄞州区", "postal_code": "315100"}
FULFILMENT = ("wms.", "shipment.", "order.completed", "return.", STAFF)


@dataclass(frozen=True)
class StockOut:
    at: datetime
    sku: str
    until: datetime  # the next morning's count


@dataclass(frozen=True)
class CompanyPlan:
    stories: list[OrderStory]
    stock_outs: tuple[StockOut, ...]


def plan_company(seed: int, start: datetime, days: float, orders: int, profile: Profile,
                 horizon: datetime) -> CompanyPlan:
    rng = random.Random(seed)
    faults = random.Random(f"{seed}:{profile.name}")  # the profile's own draws
    placed = _placing_times(rng, start, days, orders, profile.promotion_share)
    stories = [plan_story(rng, n + 1, at, profile.rates) for n, at in enumerate(placed)]
    for story in stories:
        if not profile.wrong_addresses and _incomplete(story):
            story.body["shipping_address"].update(COMPLETE)
    outs = _stock_outs(faults, start, days, profile.stock_outs_per_day)
    for out in outs:
        for story in stories:
            _wait_for_stock(faults, story, out)
    inject_faults(rng, stories, profile.rates, horizon - SETTLED)
    for story in stories:
        deliver(rng, story, horizon, profile.rates)
    hold_for_people(faults, stories, profile)
    delivered = [s for s in stories if _arrival(s, "shipment.in_transit") is not None
                 and _arrival(s, "shipment.delivered") is not None]
    for story in _share(faults, delivered, profile.carrier_out_of_order):
        _scan_last(faults, story, horizon)
    return CompanyPlan(stories, tuple(outs))


def hold_for_people(rng: random.Random, stories: list[OrderStory], profile: Profile) -> None:
    """The orders a system holds and a person fixes: wrong addresses, customs refusals (after
    the reports' arrivals are known)."""
    if profile.wrong_addresses:
        for story in stories:
            if _incomplete(story):
                _hold_and_fix(rng, story, "address_incomplete", "sf_express",
                              "address_fixed",
                              "买家已补全收货地址 / the buyer completed the address")
    mainland = [s for s in stories if s.body["currency"] == "CNY" and not _incomplete(s)
                and _arrival(s, "wms.released") is not None]
    for story in _share(rng, mainland, profile.customs_refused):
        _hold_and_fix(rng, story, "customs_check", "customs", "qualification_passed",
                      "订购人身份已核实并重新申报 / buyer's identity verified, filed again")


def _placing_times(rng: random.Random, start: datetime, days: float, orders: int,
                   promotion_share: float) -> list[datetime]:
    span = days * 86400.0
    times = []
    whole_days = max(1, int(days))
    for _ in range(orders):
        if rng.random() < promotion_share:  # the live stream: an hour of orders each evening
            day = rng.randrange(whole_days)
            offset = day * 86400.0 + PROMOTION_HOUR * 3600.0 + rng.uniform(0, 3600.0)
            times.append(start + timedelta(seconds=round(min(offset, span - 1))))
        else:
            times.append(start + timedelta(seconds=round(rng.uniform(0, span - 1))))
    return sorted(times)


def _incomplete(story: OrderStory) -> bool:
    return not story.body["shipping_address"].get("province") and \
        story.body["shipping_address"].get("country") == "CN"


def _share(rng: random.Random, stories: list[OrderStory], share: float) -> list[OrderStory]:
    if share <= 0 or not stories:
        return []
    return rng.sample(stories, max(1, round(share * len(stories))))


def _stock_outs(rng: random.Random, start: datetime, days: float,
                per_day: int) -> list[StockOut]:
    outs = []
    for day in range(max(1, int(days)) if per_day else 0):
        morning = start + timedelta(days=day)
        for _ in range(per_day):
            at = morning + timedelta(seconds=round(rng.uniform(2 * 3600, 10 * 3600)))
            outs.append(StockOut(at, rng.choice(PRODUCTS)[0], morning + timedelta(days=1)))
    return sorted(outs, key=lambda o: o.at)


def _wait_for_stock(rng: random.Random, story: OrderStory, out: StockOut) -> None:
    """An order for the SKU placed while it is counted at zero: the warehouse releases it
    only after the morning's count (and the hub's allocation) came."""
    placed = datetime.fromisoformat(str(story.body["placed_at"]))
    if not out.at <= placed < out.until or \
            out.sku not in {ln["sku"] for ln in story.body["lines"]}:
        return
    released = story.first("wms.released")
    if released is None:
        return
    ready = out.until + timedelta(seconds=round(rng.uniform(3600, 3 * 3600)))
    delay = ready - released.occurred_at
    if delay <= timedelta(0):
        return
    story.faults.add("stock_out")
    story.reports = sorted(
        (replace(r, occurred_at=r.occurred_at + delay, arrives_at=r.arrives_at + delay)
         if r.occurred_at >= released.occurred_at and r.type.startswith(FULFILMENT) else r
         for r in story.reports), key=lambda r: r.occurred_at)


def _arrival(story: OrderStory, event_type: str) -> datetime | None:
    report = story.first(event_type)
    return None if report is None else report.arrives_at


def _hold_and_fix(rng: random.Random, story: OrderStory, reason: str, by: str,
                  release_reason: str, note: str) -> None:
    """A system holds the order minutes after payment; a person fixes it and releases the
    hold before the warehouse's release reaches the hub (a hold refuses it)."""
    paid = _arrival(story, "payment.succeeded") or story.arrives_at
    released = _arrival(story, "wms.released")
    if released is None:
        return
    fixed = min(paid + timedelta(seconds=round(rng.uniform(6 * 60, 25 * 60))),
                released - timedelta(seconds=60))
    held = max(story.arrives_at + timedelta(seconds=1),
               min(paid + timedelta(seconds=round(rng.uniform(30, 120))),
                   fixed - timedelta(seconds=60)))
    if fixed <= held:
        return
    story.faults.add(reason)
    story.reports = sorted([
        *story.reports,
        Report(f"hold:{reason}", HOLDS, held, held, f"{by}:{reason}:{story.external_id}",
               {"reason": reason, "by": by}),
        Report("staff:release_hold", STAFF, fixed, fixed, f"staff:{reason}:{story.external_id}",
               {"reason": reason, "release_reason": release_reason, "note": note}),
    ], key=lambda r: r.arrives_at)


def _scan_last(rng: random.Random, story: OrderStory, horizon: datetime) -> None:
    delivered = _arrival(story, "shipment.delivered")
    assert delivered is not None
    late = min(delivered + timedelta(seconds=round(rng.uniform(60, 3600))), horizon)
    story.faults.add("carrier_out_of_order")
    story.reports = [replace(r, arrives_at=late, again_at=None)
                     if r.type == "shipment.in_transit" else r for r in story.reports]
