"""One simulation of the company: plan it, play it into the hub on the simulated clock at the
asked pace, let the last orders finish their lives, and report the outcome.

The orders are placed over ``days`` from START (a fixed day, so two runs with the same seed
play the same company and print the same report); the playback goes on for TAIL after the
last order (deliveries, returns) as fast as the hub goes. ``speed`` paces the order days only:
a simulated day takes about 86400/speed real seconds when the hub keeps up (it sleeps when
ahead and never skips work when behind); 0 plays as fast as possible.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderpilot.services.wms_checks import CHECK_AFTER
from orderpilot.simulators.company import play, report
from orderpilot.simulators.company.plan import plan_company
from orderpilot.simulators.company.profiles import Profile
from orderpilot.simulators.demo_history_returns import hold_undecided, install_registers

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday; the counts come at 08:00 Shanghai
TAIL = timedelta(days=14)  # deliveries (1-3 days) and returns (up to ~10 days) finish
STOCK_COVER = 0.8  # each morning's count per SKU and warehouse, per order of the day


class Pacer:
    """Sleep while the playback is ahead of SPEED x real time (simulated time from START)."""

    def __init__(self, start: datetime, until: datetime, speed: float) -> None:
        self.start, self.until, self.speed = start, until, speed
        self.began = time.monotonic()

    def __call__(self, at: datetime) -> None:
        if self.speed <= 0 or at > self.until:
            return
        due = (at - self.start).total_seconds() / self.speed
        ahead = due - (time.monotonic() - self.began)
        if ahead > 0:
            time.sleep(ahead)


def simulate(hub: Hub, clock: play.SimulatedClock, *, orders: int, days: float, speed: float,
             profile: Profile, seed: int,
             progress: play.Progress | None = None) -> dict[str, Any]:
    """Run the company on HUB (fresh, migrated; its clock is CLOCK) and return the report
    (without ``seconds``)."""
    until = START + timedelta(days=days)
    horizon = until + TAIL
    company = plan_company(seed, START, days, orders, profile, horizon)
    per_day = orders / max(days, 1.0)
    setup = play.Setup(stock_per_sku=max(play.HISTORY_STOCK, round(per_day * STOCK_COVER)),
                       reserve_on_placing=True, ask_promise=True,
                       stock_outs=company.stock_outs, retry_after_count=True,
                       check_wms=True, lead_days=play.COMPANY_LEAD_DAYS)
    clock.now = START
    with hub.db.bulk_load():
        play.stock_sources(hub, clock, setup)
        install_registers(hub, clock)
        recorded = play.play(hub, clock, company.stories, setup, progress,
                             pace=Pacer(START, until, speed))
        clock.now = horizon
        hold_undecided(hub, clock, recorded.returns)
        play.drain(hub, clock)
        # The checks the last events queued come due half an hour later.
        clock.now = horizon + CHECK_AFTER
        play.drain(hub, clock, play.wms_checker(hub, clock, company.stories, recorded))
        clock.now = horizon
    figures = report.outcome(hub, company.stories, recorded, seed=seed, since=START,
                             until=until, horizon=horizon)
    return {**figures, "faults": profile.name, "seed": seed, "days": days, "speed": speed}
