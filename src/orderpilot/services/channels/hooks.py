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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from orderpilot.domain.channel_orders import Account, Hook, HookAnswer, MappingError
from orderpilot.domain.errors import OrderpilotError
from orderpilot.services.channels.ports import Platform
from orderpilot.services.unit_of_work import Clock, UowFactory, retrying


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
            platforms: Mapping[str, Platform], uow_factory: UowFactory,
            clock: Clock) -> PushTaken:
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

    def attempt() -> PushTaken:
        now = clock()
        with uow_factory() as uow:
            store = uow.channels
            if store.push_seen(code, push_key):
                return PushTaken(platform.ack, 0, duplicate=True)
            store.add_push(code, push_key, text, len(notices), now)
            jobs = 0
            for notice in notices:
                if notice.kind != "order":
                    continue
                jobs += store.add_job(f"push:{code}:{notice.dedup_key}", code,
                                      notice.external_id, "push", notice.raw, now)
            store.note_push(code, now)
            return PushTaken(platform.ack, jobs)

    return retrying(attempt)


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
