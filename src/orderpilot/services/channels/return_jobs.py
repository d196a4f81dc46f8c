"""The channel worker's return work: return jobs (from pushes), refund jobs (from finance), and
the pull of returns by update time (after each scheduled order pull).

Return jobs are written with their push (services/channels/hooks.py, one per return notice,
key ``return:<account>:<notice key>``) or by a pull for a return whose order is not in yet.
The worker claims them with the order jobs; this module fetches the whole returns (unless the
job carries one), takes each (services/channels/return_intake.py) and marks the job done; a
return that waits for its order is retried with the job's backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from orderpilot.domain.channel_orders import Account, ChannelError
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.ports import Gateway, JobRow, Platform, ReturnClient
from orderpilot.services.channels.pull import SLICE, load_account
from orderpilot.services.channels.return_intake import (
    RETURN_ORIGIN,
    guess_return_id,
    map_return,
    order_of,
    return_job_key,
    take,
    take_raws,
)
from orderpilot.services.channels.return_refunds import REFUND_ORIGIN, run_refund
from orderpilot.services.unit_of_work import Clock, UowFactory

SCAN_ORIGIN = "returnscan"  # an order has a return the push did not name (external_id: order)
SCAN_BACK = timedelta(days=1)  # how far back a scan lists the account's returns
# A scan is a hint (the order says it has a return): after this many looks (about half a
# minute of backoff) it ends; the scheduled pull by update time takes the return whenever the
# platform lists it, so a status with no listed return never keeps a job open.
SCAN_TRIES = 6
RETURN_ORIGINS = frozenset({RETURN_ORIGIN, REFUND_ORIGIN, SCAN_ORIGIN})
Fail = Callable[[Sequence[JobRow], str, bool], None]  # (jobs, error, permanent)
MAX_PAGES = 100_000


class ReturnJobs:
    def __init__(self, uow_factory: UowFactory, gateway: Gateway, clock: Clock,
                 sleep: Callable[[float], None], fail: Fail) -> None:
        self.uow_factory, self.gateway, self.clock, self.sleep = uow_factory, gateway, clock, sleep
        self.fail = fail

    def run(self, account: Account, jobs: Sequence[JobRow]) -> None:
        platform = self.gateway.platforms().get(account.platform)
        if platform is None or platform.returns is None:
            self.fail(jobs, f"platform {account.platform} brings no returns", True)
            return
        calls = ShopCalls(account, self.gateway, self.uow_factory, self.clock, self.sleep)
        for job in (j for j in jobs if j.origin == REFUND_ORIGIN):
            try:
                run_refund(job, account, platform, calls, self.uow_factory, self.clock)
            except ChannelError as error:
                self.fail([job], error.message, not error.transient)
                continue
            with self.uow_factory() as uow:
                uow.channels.finish_jobs([job.seq], self.clock())
        returns = [j for j in jobs if j.origin == RETURN_ORIGIN]
        if returns:
            self._returns(account, platform, calls, returns)
        scans = [j for j in jobs if j.origin == SCAN_ORIGIN]
        if scans:
            self._scan(account, scans)

    def _scan(self, account: Account, jobs: Sequence[JobRow]) -> None:
        """List the account's returns of the last day; each scan job is done once its order
        has a return from this account (else it is retried: the platform's list may lag)."""
        now = self.clock()
        pulled = pull_returns(account.code, now - SCAN_BACK, now, self.uow_factory,
                              self.gateway, self.clock, sleep=self.sleep)
        for job in jobs:
            with self.uow_factory() as uow:
                order_id = order_of(uow, account, job.external_id)
                found = order_id is not None and any(
                    r.source == account.code for r in uow.returns.of_order(order_id))
                if found:
                    uow.channels.finish_jobs([job.seq], self.clock())
            if found:
                continue
            said = pulled.error or f"no {account.platform} return listed for order " \
                                   f"{job.external_id} yet"
            if pulled.error is None and job.attempts + 1 >= SCAN_TRIES:
                with self.uow_factory() as uow:  # the scheduled pull takes it when listed
                    uow.channels.finish_jobs([job.seq], self.clock(),
                                             error=f"{said}; left to the scheduled pull")
            else:
                self.fail([job], said, False)

    def _returns(self, account: Account, platform: Platform, calls: ShopCalls,
                 jobs: Sequence[JobRow]) -> None:
        support = platform.returns
        assert support is not None
        fetched: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(j.external_id for j in jobs if j.raw is None))
        try:
            for i in range(0, len(wanted), support.fetch_batch):
                chunk = wanted[i:i + support.fetch_batch]
                for got in calls.call(_get_returns(chunk)):
                    item = map_return(support, account, got)
                    fetched[item.return_id if isinstance(item, ChannelReturn)
                            else guess_return_id(got)] = got
        except ChannelError as error:
            self.fail(jobs, error.message, not error.transient)
            with self.uow_factory() as uow:
                uow.channels.note_error(account.code, self.clock(),
                                        f"fetch returns: {error.message}")
            return
        for job in jobs:
            raw: Mapping[str, Any] | None = job.raw if job.raw is not None \
                else fetched.get(job.external_id)
            if raw is None:
                self.fail([job], f"{account.platform} returned no return for this id", False)
                continue
            outcome = take(map_return(support, account, raw), raw, account,
                           self.uow_factory, self.clock)
            if outcome.outcome == "waiting":
                self.fail([job], outcome.reason, False)
                continue
            with self.uow_factory() as uow:
                uow.channels.finish_jobs([job.seq], self.clock())


@dataclass
class ReturnsPulled:
    account: str
    since: datetime
    until: datetime
    pages: int = 0
    seen: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    watermark: datetime | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"account": self.account, "since": self.since.isoformat(),
                "until": self.until.isoformat(), "pages": self.pages, "seen": self.seen,
                **{k: self.outcomes.get(k, 0) for k in ("created", "unchanged", "waiting",
                                                          "quarantined")},
                "watermark": self.watermark.isoformat() if self.watermark else None,
                "error": self.error}


def pull_returns(code: str, since: datetime, until: datetime, uow_factory: UowFactory,
                 gateway: Gateway, clock: Clock, *,
                 sleep: Callable[[float], None] = time.sleep) -> ReturnsPulled:
    """The account's returns updated in [SINCE, UNTIL), page by page, each taken; a return
    whose order is not in yet becomes a return job (it waits). The returns watermark moves as
    the orders' does: only when the whole window is in and it starts at or before it."""
    if until <= since:
        raise InvalidInput("until must be after since", field="until", zh="until 应晚于 since")
    account = load_account(uow_factory, code)
    platform = gateway.platforms().get(account.platform)
    if platform is None or platform.returns is None:
        raise NotFound(f"{account.platform} brings no returns", field="platform",
                       zh=f"{account.platform} 不提供退货")
    summary = ReturnsPulled(code, since, until)
    calls = ShopCalls(account, gateway, uow_factory, clock, sleep)
    try:
        start = since
        while start < until:
            end = min(start + SLICE, until)
            _slice(calls, platform, account, start, end, uow_factory, clock, summary)
            start = end
    except ChannelError as error:
        summary.error = error.message
        with uow_factory() as uow:
            uow.channels.note_error(code, clock(), f"pull returns: {error.message}")
    with uow_factory() as uow:
        old = uow.channels.returns_watermark(code)
        if summary.error is None and (old is None or since <= old):
            summary.watermark = until if old is None else max(old, until)
            uow.channels.note_returns_pull(code, summary.watermark)
        else:
            summary.watermark = old
    return summary


def pull_returns_too(code: str, since: datetime, until: datetime, uow_factory: UowFactory,
                     gateway: Gateway, clock: Clock) -> dict[str, Any] | None:
    """The account's returns in the same window as an order pull (its summary), or None when
    its platform brings no returns."""
    account = load_account(uow_factory, code)
    platform = gateway.platforms().get(account.platform)
    if platform is None or platform.returns is None:
        return None
    return pull_returns(code, since, until, uow_factory, gateway, clock).as_json()


def _slice(calls: ShopCalls, platform: Platform, account: Account, start: datetime,
           end: datetime, uow_factory: UowFactory, clock: Clock,
           summary: ReturnsPulled) -> None:
    support = platform.returns
    assert support is not None
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = calls.call(_list_returns(start, end, cursor))
        raws = list(page.raws)
        refs = list(dict.fromkeys(page.refs))
        for i in range(0, len(refs), support.fetch_batch):
            chunk = refs[i:i + support.fetch_batch]
            raws += calls.call(_get_returns(chunk))
        for rid, outcome, raw in take_raws(raws, platform, account, uow_factory, clock):
            summary.outcomes[outcome.outcome] = summary.outcomes.get(outcome.outcome, 0) + 1
            if outcome.outcome == "waiting":  # its job retries it once the order is in
                with uow_factory() as uow:
                    uow.channels.add_job(return_job_key(account.code, f"wait:{rid}:"
                                                        f"{_stamp(raw)}"),
                                         account.code, rid, RETURN_ORIGIN, dict(raw), clock())
        summary.pages += 1
        summary.seen += len(raws)
        cursor = page.next_cursor
        if not cursor:
            return


def _get_returns(ids: Sequence[str]) -> Callable[[Any], list[dict[str, Any]]]:
    return lambda client: cast(ReturnClient, client).get_returns(ids)


def _list_returns(since: datetime, until: datetime,
                  cursor: str | None) -> Callable[[Any], ReturnPage]:
    return lambda client: cast(ReturnClient, client).list_returns(since, until, cursor)


def _stamp(raw: Any) -> str:
    for key in ("update_time", "updated_at", "modified", "update_at"):
        if isinstance(raw, dict) and raw.get(key) is not None:
            return str(raw[key])[:40]
    return ""


def first_window(watermark: datetime | None, now: datetime, first: timedelta,
                 overlap: timedelta) -> datetime:
    return (watermark or now - first) - overlap
