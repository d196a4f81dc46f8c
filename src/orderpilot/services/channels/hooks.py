"""A platform's push: verified over its exact bytes, kept, acknowledged; fetched later.

Nothing here calls the platform: the push and one fetch job per order it names are written in
one transaction and the platform gets its answer (Lazada wants it within 500 ms; Shopee wants
an empty 2xx body or it switches the subscription off). The channel worker fetches the whole
order afterwards (or takes it from the push when the push carries it).

A replayed push (same account and push key) is answered as the first was and changes nothing.
An unknown account or a bad signature is refused (401) and counted; a push whose signature is
good but whose body cannot be read is kept in quarantine with the reason and acknowledged, so
the platform does not retry it forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256

from orderpilot.domain.channel_orders import (
    Account,
    Hook,
    HookAnswer,
    MappingError,
    PushNotice,
)
from orderpilot.domain.errors import OrderpilotError
from orderpilot.services.channels.ports import ChannelStore, Journal, Platform
from orderpilot.services.unit_of_work import Clock, UowFactory, retrying

JOB_KINDS = ("order", "return", "return_scan")  # notice kinds that make a job


class PushRefused(OrderpilotError):
    """Unknown account or a signature that does not verify (the hook answers 401)."""

    code = "push_refused"


@dataclass(frozen=True)
class PushTaken:
    answer: HookAnswer
    jobs: int
    duplicate: bool = False
    quarantined: bool = False


class AccountCache:
    """Accounts by code for a few seconds: a push must not wait for a read it can skip.
    A changed or deleted account is seen within TTL seconds (and at once in this process,
    which clears the cache on every change it makes)."""

    def __init__(self, load: Callable[[str], Account | None], ttl_s: float = 5.0) -> None:
        self._load, self._ttl = load, ttl_s
        self._cache: dict[str, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> Account | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(code)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        account = self._load(code)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[code] = (now, account)
        return account

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def receive(code: str, hook: Hook, body: bytes, accounts: AccountCache,
            platforms: Mapping[str, Platform], uow_factory: UowFactory, clock: Clock,
            batcher: PushBatcher) -> PushTaken:
    account = accounts.get(code)
    if account is None:
        raise PushRefused(f"no channel account {code!r}", field="code",
                          code="unknown_channel_account", zh=f"没有渠道账号 {code!r}")
    platform = platforms.get(account.platform)
    if platform is None:
        raise PushRefused(f"channel {code!r} is on {account.platform}, which this hub does not "
                          f"know", field="code", code="unknown_platform",
                          zh=f"渠道 {code!r} 的平台 {account.platform} 未安装")
    if not platform.verify_push(account, hook, body):
        _note_refusal(uow_factory, clock, code, "the signature does not verify")
        raise PushRefused(f"the push's {account.platform} signature does not verify for "
                          f"channel {code!r}", field="signature", code="bad_signature",
                          zh=f"推送的 {account.platform} 签名校验失败（渠道 {code!r}）")
    text = body.decode("utf-8", errors="replace")
    try:
        notices = platform.read_push(body)
    except MappingError as error:
        return _quarantine(uow_factory, clock, account, error, text, platform.ack)
    push_key = sha256(body).hexdigest()
    return batcher.submit(Verified(account.code, push_key, text, tuple(notices),
                                   platform.ack))


@dataclass(frozen=True)
class Verified:
    """A push whose signature verified, to be written with its fetch jobs."""

    code: str
    push_key: str
    text: str
    notices: tuple[PushNotice, ...]
    ack: HookAnswer


@dataclass
class _Waiting:
    push: Verified
    done: threading.Event = field(default_factory=threading.Event)
    result: PushTaken | None = None
    error: BaseException | None = None


class PushBatcher:
    """Group commit for pushes: every push waiting when a write starts goes into that one
    transaction (one fsync for all), and each is answered only once it is committed. The
    first caller to find no write running writes the batch; the others wait for it, then
    find their own push written (or write the next batch)."""

    def __init__(self, uow_factory: UowFactory, clock: Clock, max_batch: int = 200,
                 journal: Journal | None = None,
                 after_journal: Callable[[], None] = lambda: None) -> None:
        """JOURNAL (SQLite): pushes are committed there and moved into the main database by
        the channel worker (``move_journal``); AFTER_JOURNAL wakes it."""
        self.uow_factory, self.clock, self.max_batch = uow_factory, clock, max_batch
        self.journal, self.after_journal = journal, after_journal
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        self._writing = threading.Lock()

    def submit(self, push: Verified) -> PushTaken:
        waiting = _Waiting(push)
        with self._queue_lock:
            self._queue.append(waiting)
        while not waiting.done.is_set():
            with self._writing:
                if waiting.done.is_set():
                    break
                with self._queue_lock:
                    batch = self._queue[:self.max_batch]
                    del self._queue[:self.max_batch]
                self._write(batch)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.result is not None
        return waiting.result

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            pushes = [w.push for w in batch]
            results = self._journal(pushes) if self.journal is not None else retrying(
                lambda: self._attempt(pushes))
        except BaseException as error:  # every waiter hears of it, none hangs
            for w in batch:
                w.error = error
                w.done.set()
            raise
        for w, result in zip(batch, results, strict=True):
            w.result = result
            w.done.set()

    def _journal(self, pushes: list[Verified]) -> list[PushTaken]:
        assert self.journal is not None
        fresh = self.journal.write([(p.code, p.push_key, p.text, p.notices) for p in pushes],
                                   self.clock())
        self.after_journal()
        return [PushTaken(p.ack, sum(n.kind in JOB_KINDS for n in p.notices) if new else 0,
                          duplicate=not new) for p, new in zip(pushes, fresh, strict=True)]

    def _attempt(self, pushes: list[Verified]) -> list[PushTaken]:
        with self.uow_factory() as uow:
            now = self.clock()
            jobs = store_pushes(uow.channels, [(p.code, p.push_key, p.text, p.notices, now)
                                               for p in pushes], now)
        return [PushTaken(p.ack, n or 0, duplicate=n is None)
                for p, n in zip(pushes, jobs, strict=True)]


def store_pushes(store: ChannelStore,
                 pushes: Sequence[tuple[str, str, str, Sequence[PushNotice], datetime]],
                 now: datetime) -> list[int | None]:
    """Each push (account, key, body, notices, received at) with one fetch job per order it
    names, and the accounts' push counts; per push the jobs added, or None when this account
    sent this push before (its jobs are there already)."""
    added: list[int | None] = []
    taken: dict[str, int] = {}
    for code, key, body, notices, received_at in pushes:
        if not store.add_push(code, key, body, len(notices), received_at):
            added.append(None)
            continue
        added.append(sum(add_notice_job(store, code, n, "push", now) for n in notices))
        taken[code] = taken.get(code, 0) + 1
    for code, count in taken.items():
        store.note_push(code, now, count=count)
    return added


def add_notice_job(store: ChannelStore, code: str, notice: PushNotice, origin: str,
                   now: datetime) -> bool:
    """The job a notice asks for: an order fetch, or a return to take (kind "return",
    services/channels/return_jobs.py); nothing for other notices."""
    if notice.kind == "order":
        return store.add_job(f"{origin}:{code}:{notice.dedup_key}", code, notice.external_id,
                             origin, notice.raw, now)
    if notice.kind == "return":
        return store.add_job(f"return:{code}:{notice.dedup_key}", code, notice.external_id,
                             "return", notice.raw, now)
    if notice.kind == "return_scan":
        return store.add_job(f"returnscan:{code}:{notice.dedup_key}", code,
                             notice.external_id, "returnscan", None, now)
    return False


def move_journal(journal: Journal, uow_factory: UowFactory, clock: Clock,
                 limit: int = 500) -> int:
    """Move pushes from the journal into the main database (pushes and fetch jobs, one
    transaction), then mark them moved; returns how many. Moving one twice changes nothing."""
    rows = journal.unmoved(limit)
    if not rows:
        return 0

    def attempt() -> None:
        with uow_factory() as uow:
            store_pushes(uow.channels, [(r.account, r.push_key, r.body, r.notices,
                                         r.received_at) for r in rows], clock())

    retrying(attempt)
    journal.mark_moved([r.seq for r in rows], clock())
    return len(rows)


def _note_refusal(uow_factory: UowFactory, clock: Clock, code: str, reason: str) -> None:
    with uow_factory() as uow:
        uow.channels.note_push(code, clock(), refusal=reason)


def _quarantine(uow_factory: UowFactory, clock: Clock, account: Account, error: MappingError,
                text: str, ack: HookAnswer) -> PushTaken:
    now: datetime = clock()
    with uow_factory() as uow:
        uow.channels.quarantine(account.code, account.platform, "", error.field,
                                f"push: {error.message}", f"推送：{error.message_zh}", text,
                                now)
        uow.channels.note_error(account.code, now, f"push kept in quarantine: {error.message}")
    return PushTaken(ack, 0, quarantined=True)
