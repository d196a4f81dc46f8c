"""The channel worker: fetches what pushes announced, and runs each shop's scheduled catch-up.

Jobs (channel_jobs, written with their push) are claimed with a lease; the platform is called
outside any transaction; the orders and the jobs' done marks are written in one transaction.
A worker killed mid-batch leaves its jobs to be claimed again when the lease ends: applying an
order twice changes nothing, so a push's order changes once. A transient failure (5xx, a rate
limit past its waits) retries the job later with backoff; a job the platform keeps failing is
left ``dead`` with the reason, counted on the account's error count for staff to see.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from orderpilot.domain.channel_orders import Account, ChannelError
from orderpilot.services.cancellation import CANCEL_ORIGIN
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.cancel_jobs import CancelJobs
from orderpilot.services.channels.hooks import add_notice_job, move_journal
from orderpilot.services.channels.intake import Batch, Mapped, apply_batch, map_fetched
from orderpilot.services.channels.ports import Gateway, JobRow, Journal
from orderpilot.services.channels.pull import pull
from orderpilot.services.channels.return_jobs import (
    RETURN_ORIGINS,
    ReturnJobs,
    first_window,
    pull_returns,
)
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.channels")
APPLY_CHUNK = 25  # orders applied per transaction


@dataclass
class WorkerSettings:
    batch: int = 200
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 10
    idle_poll_seconds: float = 0.2
    schedule_every_seconds: float = 30.0
    overlap: timedelta = timedelta(minutes=5)
    first_pull: timedelta = timedelta(days=1)  # a new account's first catch-up looks back this far


class ChannelWorker:
    def __init__(self, uow_factory: UowFactory, gateway: Gateway, clock: Clock,
                 worker_id: str, settings: WorkerSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 journal: Journal | None = None) -> None:
        """JOURNAL (SQLite): where pushes land first; each pass moves them in."""
        self.uow_factory, self.gateway, self.clock = uow_factory, gateway, clock
        self.worker_id = worker_id
        self.settings = settings or WorkerSettings()
        self.sleep = sleep
        self.journal = journal
        self._wake = threading.Event()
        self._next_schedule = 0.0
        self.fetched = 0
        self.returns = ReturnJobs(uow_factory, gateway, clock, sleep,
                                  lambda jobs, error, permanent: self._fail(
                                      jobs, error, permanent=permanent))
        self.cancels = CancelJobs(uow_factory, gateway, clock, sleep,
                                  lambda jobs, error, permanent: self._fail(
                                      jobs, error, permanent=permanent))

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
                if time.monotonic() >= self._next_schedule:
                    self._next_schedule = time.monotonic() + self.settings.schedule_every_seconds
                    self.run_schedule()
            except Exception:  # a worker thread must outlive any one failure
                log.exception("channel worker pass failed")
                done = 0
            if not done:
                self._wake.wait(self.settings.idle_poll_seconds)
                self._wake.clear()

    def run_once(self) -> int:
        """Claim one batch of fetch jobs and do it; returns how many jobs were handled."""
        s = self.settings
        moved = 0
        if self.journal is not None:
            moved = move_journal(self.journal, self.uow_factory, self.clock)
        with self.uow_factory().autocommit() as uow:  # one statement
            jobs = uow.channels.claim_jobs(self.worker_id, s.batch, s.lease, self.clock())
        by_account: dict[str, list[JobRow]] = defaultdict(list)
        for job in jobs:
            by_account[job.account].append(job)
        for code, group in by_account.items():
            with self.uow_factory() as uow:
                account = uow.channels.account(code)
                if account is None:
                    uow.channels.finish_jobs([j.seq for j in group], self.clock(),
                                             status="dead",
                                             error=f"channel account {code} was deleted")
                    continue
            orders = [j for j in group
                      if j.origin not in RETURN_ORIGINS and j.origin != CANCEL_ORIGIN]
            if orders:
                self._fetch(account, orders)
            returns = [j for j in group if j.origin in RETURN_ORIGINS]
            if returns:
                self.returns.run(account, returns)
            cancels = [j for j in group if j.origin == CANCEL_ORIGIN]
            if cancels:
                self.cancels.run(account, cancels)
        return len(jobs) + moved

    def _fetch(self, account: Account, jobs: Sequence[JobRow]) -> None:
        code = account.code
        platform = self.gateway.platforms().get(account.platform)
        if platform is None:
            self._fail(jobs, f"platform {account.platform} is not installed", permanent=True)
            return
        raws: dict[str, Any] = {}
        wanted = [j.external_id for j in jobs if j.raw is None]
        try:
            calls = ShopCalls(account, self.gateway, self.uow_factory, self.clock, self.sleep)
            unique = list(dict.fromkeys(wanted))
            for i in range(0, len(unique), platform.fetch_batch):
                chunk = unique[i:i + platform.fetch_batch]
                for item in map_fetched(calls, platform, calls.get_orders(chunk)):
                    raws[item.external_id] = item
            carried = [(j.external_id, j.raw) for j in jobs if j.raw is not None]
            for (external_id, _), item in zip(
                    carried, map_fetched(calls, platform, [raw for _, raw in carried]),
                    strict=True):
                raws.setdefault(external_id, item)
        except ChannelError as error:
            self._fail(jobs, error.message, permanent=not error.transient)
            with self.uow_factory() as uow:
                uow.channels.note_error(code, self.clock(), f"fetch: {error.message}")
            return
        groups: list[tuple[Mapped, list[int]]] = []
        missing: list[JobRow] = []
        index: dict[str, int] = {}
        for job in jobs:
            item = raws.pop(job.external_id, None)
            if item is not None:
                index[job.external_id] = len(groups)
                groups.append((item, [job.seq]))
            elif job.external_id in index:  # a second push for an order in this batch
                groups[index[job.external_id]][1].append(job.seq)
            else:
                missing.append(job)
        # Short transactions: the write lock (SQLite) is not held long, so pushes are
        # acknowledged quickly while orders are being applied.
        for at in range(0, len(groups), APPLY_CHUNK):
            part = groups[at:at + APPLY_CHUNK]
            part_seqs = [seq for _, group in part for seq in group]

            def finish(uow: UnitOfWork, batch: Batch, seqs: list[int] = part_seqs) -> None:
                uow.channels.finish_jobs(seqs, self.clock())

            apply_batch([item for item, _ in part], account, self.uow_factory, self.clock,
                        finish=finish)
            self.fetched += len(part)
        if missing:  # the platform does not (yet) know the id: try again later
            self._fail(missing, f"{account.platform} returned no order for this id")

    def _fail(self, jobs: Sequence[JobRow], error: str, *, permanent: bool = False) -> None:
        now = self.clock()
        dead = [j.seq for j in jobs if permanent or j.attempts + 1 >= self.settings.max_attempts]
        again = [j for j in jobs if j.seq not in dead]
        with self.uow_factory() as uow:
            uow.channels.finish_jobs(dead, now, status="dead", error=error[:2000])
            for job in again:
                delay = min(2 ** job.attempts, 600) * random.uniform(0.8, 1.2)
                uow.channels.retry_jobs([job.seq], error, now + timedelta(seconds=delay))

    def run_schedule(self) -> list[dict[str, Any]]:
        """Each due shop's catch-up pull and lost-push drain; returns the pulls' summaries."""
        now = self.clock()
        with self.uow_factory() as uow:
            due = uow.channels.due_pulls(now)
        done = []
        for code, watermark in due:
            if not self._claim_pull(code, now):
                continue
            since = (watermark or now - self.settings.first_pull) - self.settings.overlap
            try:
                done.append(pull(code, since, now - timedelta(seconds=1), self.uow_factory,
                                 self.gateway, self.clock, sleep=self.sleep).as_json())
            except Exception as error:  # one shop's trouble must not stop the others
                log.warning("catch-up pull failed", account=code, error=str(error))
            self._pull_returns(code, now)
            self.drain_lost(code)
        return done

    def _pull_returns(self, code: str, now: datetime) -> None:
        """The account's returns by update time, when its platform brings returns."""
        with self.uow_factory() as uow:
            account = uow.channels.account(code)
            watermark = uow.channels.returns_watermark(code)
        platform = self.gateway.platforms().get(account.platform) if account else None
        if platform is None or platform.returns is None:
            return
        since = first_window(watermark, now, self.settings.first_pull, self.settings.overlap)
        try:
            pull_returns(code, since, now - timedelta(seconds=1), self.uow_factory,
                         self.gateway, self.clock, sleep=self.sleep)
        except Exception as error:  # one shop's trouble must not stop the others
            log.warning("returns pull failed", account=code, error=str(error))

    def _claim_pull(self, code: str, now: datetime) -> bool:
        """Mark the pull as started, so another worker process skips it this round."""
        with self.uow_factory() as uow:
            due = dict(uow.channels.due_pulls(now))
            if code not in due:
                return False
            uow.channels.note_pull(code, now, {"started": now.isoformat()}, None)
            return True

    def drain_lost(self, code: str) -> int:
        """Pushes the platform could not deliver (Shopee's push-lost list) become jobs."""
        with self.uow_factory() as uow:
            account = uow.channels.account(code)
        if account is None:
            return 0
        try:
            calls = ShopCalls(account, self.gateway, self.uow_factory, self.clock, self.sleep)
            notices = calls.call(lambda c: c.lost_pushes())
            if not notices:
                return 0
            with self.uow_factory() as uow:
                now = self.clock()
                added = sum(add_notice_job(uow.channels, code, n, "lost", now)
                            for n in notices)
            calls.call(lambda c: c.confirm_lost(notices))
            self.wake()
            return added
        except ChannelError as error:
            with self.uow_factory() as uow:
                uow.channels.note_error(code, self.clock(), f"lost pushes: {error.message}")
            return 0
