"""Pulling a shop's orders by update time: backfill, and the scheduled catch-up behind pushes.

A window [since, until) is cut into slices of at most a day (every platform caps its window:
Shopee at 15 days); each slice is listed page by page, the ids fetched in the platform's batch
size, and each page applied in one transaction, so a crash loses at most a page's work and
re-pulling changes nothing. The watermark (orders updated before it are in) moves only when
the whole window is in and it starts at or before the old watermark: it never skips a gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from orderpilot.domain.channel_orders import Account, ChannelError
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.intake import Mapped, apply_batch, map_fetched
from orderpilot.services.channels.ports import Gateway
from orderpilot.services.unit_of_work import Clock, UowFactory

SLICE = timedelta(days=1)
APPLY_CHUNK = 25  # orders applied per transaction
MAX_PAGES = 100_000
Progress = Callable[[dict[str, Any]], None]


@dataclass
class PullSummary:
    account: str
    since: datetime
    until: datetime
    pages: int = 0
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    quarantined: int = 0
    rate_limited: int = 0
    token_refreshed: int = 0
    retried: int = 0
    seconds: float = 0.0
    watermark: datetime | None = None
    error: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"account": self.account, "since": self.since.isoformat(),
                "until": self.until.isoformat(), "pages": self.pages, "seen": self.seen,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "stale": self.stale, "quarantined": self.quarantined,
                "rate_limited": self.rate_limited, "token_refreshed": self.token_refreshed,
                "retried": self.retried, "seconds": round(self.seconds, 3),
                "watermark": self.watermark.isoformat() if self.watermark else None,
                "error": self.error}


def load_account(uow_factory: UowFactory, code: str) -> Account:
    with uow_factory() as uow:
        account = uow.channels.account(code)
    if account is None:
        raise NotFound(f"no channel account {code!r}", field="code",
                       zh=f"没有渠道账号 {code!r}")
    return account


def pull(code: str, since: datetime, until: datetime, uow_factory: UowFactory,
         gateway: Gateway, clock: Clock, *, progress: Progress | None = None,
         sleep: Callable[[float], None] = time.sleep) -> PullSummary:
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a time zone (e.g. 2026-03-01T00:00:00+08:00)",
                           field="since", zh="since 和 until 需要带时区，如 "
                                             "2026-03-01T00:00:00+08:00")
    if until <= since:
        raise InvalidInput("until must be after since", field="until",
                           zh="until 应晚于 since")
    if until - since > timedelta(days=366):
        raise InvalidInput("a pull covers at most 366 days; pull in parts", field="since",
                           zh="一次拉取最多 366 天，请分段拉取")
    account = load_account(uow_factory, code)
    platform = gateway.platforms().get(account.platform)
    if platform is None:
        raise NotFound(f"platform {account.platform!r} is not installed", field="platform",
                       zh=f"平台 {account.platform!r} 未安装")
    started = time.perf_counter()
    summary = PullSummary(code, since, until)
    calls = ShopCalls(account, gateway, uow_factory, clock, sleep)
    try:
        start = since
        while start < until:
            end = min(start + SLICE, until)
            _slice(calls, platform, start, end, uow_factory, clock, summary, progress)
            start = end
    except ChannelError as error:
        summary.error = error.message
        with uow_factory() as uow:
            uow.channels.note_error(code, clock(), f"pull: {error.message}")
    summary.rate_limited = calls.stats["rate_limited"]
    summary.token_refreshed = calls.stats["token_refreshed"]
    summary.retried = calls.stats["retried"]
    summary.seconds = time.perf_counter() - started
    with uow_factory() as uow:
        row = uow.channels.account_row(code) or {}
        old = row.get("pull_watermark")
        moves = summary.error is None and (old is None or since <= old)
        summary.watermark = max(old, until) if moves and old is not None else (
            until if moves else old)
        uow.channels.note_pull(code, clock(), summary.as_json(),
                               summary.watermark if moves else None)
    return summary


def _slice(calls: ShopCalls, platform: Any, start: datetime, end: datetime,
           uow_factory: UowFactory, clock: Clock, summary: PullSummary,
           progress: Progress | None) -> None:
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = calls.list_orders(start, end, cursor)
        raws = list(page.raws)
        refs = list(dict.fromkeys(page.refs))
        for i in range(0, len(refs), platform.fetch_batch):
            chunk = refs[i:i + platform.fetch_batch]
            raws += calls.get_orders(chunk)
        mapped: list[Mapped] = map_fetched(calls, platform, raws)
        for at in range(0, len(mapped), APPLY_CHUNK):  # short transactions
            batch = apply_batch(mapped[at:at + APPLY_CHUNK], calls.account, uow_factory,
                                clock)
            for outcome, n in batch.counts.items():
                if hasattr(summary, outcome):
                    setattr(summary, outcome, getattr(summary, outcome) + n)
        summary.pages += 1
        summary.seen += len(mapped)
        if progress is not None:
            progress({"pages": summary.pages, "seen": summary.seen, "slice_end": end})
        cursor = page.next_cursor
        if not cursor:
            return
