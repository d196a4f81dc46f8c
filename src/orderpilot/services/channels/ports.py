"""What the channel services need from the outside: the platforms (each integration's
``ChannelPlatform``, seen through these Protocols), a client per account, and the store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from orderpilot.domain.channel_orders import (
    Account,
    ChannelOrder,
    Hook,
    HookAnswer,
    OrderPage,
    PushNotice,
    Revealed,
    StatusRow,
    Tokens,
)
from orderpilot.domain.channel_returns import ChannelReturn, ReturnPage, ReturnSupport
from orderpilot.domain.records import JsonObject


class JobRow(NamedTuple):
    seq: int
    key: str
    account: str
    external_id: str
    origin: str
    raw: JsonObject | None
    attempts: int


class JobState(NamedTuple):
    status: str  # pending | done | dead
    attempts: int
    last_error: str | None


class JournalRow(NamedTuple):
    seq: int
    account: str
    push_key: str
    received_at: datetime
    body: str
    notices: tuple[PushNotice, ...]


class Journal(Protocol):
    """Where pushes land first on SQLite (adapters/channels/journal.py)."""

    def write(self, pushes: Sequence[tuple[str, str, str, Sequence[PushNotice]]],
              now: datetime) -> list[bool]: ...

    def unmoved(self, limit: int) -> list[JournalRow]: ...

    def mark_moved(self, seqs: Sequence[int], now: datetime) -> None: ...


class ChannelOrderRow(NamedTuple):
    order_id: str
    platform_status: str
    platform_updated_at: datetime
    raw_hash: str


class QuarantinedRow(NamedTuple):
    seq: int
    account: str
    platform: str
    external_id: str
    raw: str
    status: str


class ChannelClient(Protocol):
    def list_orders(self, since: datetime, until: datetime,
                    cursor: str | None) -> OrderPage: ...

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    def refresh(self) -> Tokens | None: ...

    def check(self) -> str: ...

    def lost_pushes(self) -> list[PushNotice]: ...

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None: ...


class ReturnClient(Protocol):
    """What a client adds when its platform declares ``returns`` (see
    adapters/channels/base.py ReturnClient)."""

    def list_returns(self, since: datetime, until: datetime,
                     cursor: str | None) -> ReturnPage: ...

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    def refund_return(self, ret: ChannelReturn) -> None: ...


class CancelClient(Protocol):
    """What a client adds when its platform declares ``cancel_reasons``."""

    def cancel_order(self, raw: Mapping[str, Any], reason: str) -> None: ...


class Platform(Protocol):
    """A sales-channel platform (adapters/channels/base.py ChannelPlatform)."""

    @property
    def platform(self) -> str: ...

    @property
    def title_zh(self) -> str: ...

    @property
    def title_en(self) -> str: ...

    @property
    def default_base_url(self) -> Callable[[str], str]: ...

    @property
    def verify_push(self) -> Callable[[Account, Hook, bytes], bool]: ...

    @property
    def read_push(self) -> Callable[[bytes], list[PushNotice]]: ...

    @property
    def map_order(self) -> Callable[[Mapping[str, Any], Account], ChannelOrder]: ...

    @property
    def statuses(self) -> tuple[StatusRow, ...]: ...

    @property
    def ack(self) -> HookAnswer: ...

    @property
    def fetch_batch(self) -> int: ...

    @property
    def push_carries_order(self) -> bool: ...

    @property
    def region_currency(self) -> Mapping[str, str]: ...

    @property
    def reveal(self) -> Callable[[Any, Sequence[Mapping[str, Any]]], Revealed] | None: ...

    @property
    def returns(self) -> ReturnSupport | None: ...

    @property
    def cancel_reasons(self) -> Mapping[str, str] | None: ...


class Gateway(Protocol):
    """The platforms this hub knows and a client for one account (on the guarded HTTP
    client); ``check_url`` raises HostNotAllowed unless the allow-list covers the URL."""

    def platforms(self) -> Mapping[str, Platform]: ...

    def open(self, account: Account) -> ChannelClient: ...

    def check_url(self, url: str) -> None: ...


class ChannelStore(Protocol):
    def account(self, code: str) -> Account | None: ...

    def account_row(self, code: str) -> dict[str, Any] | None: ...

    def account_rows(self) -> list[dict[str, Any]]: ...

    def shop_taken(self, platform: str, shop_id: str, code: str) -> str | None: ...

    def put_account(self, code: str, values: JsonObject, now: datetime) -> bool: ...

    def delete_account(self, code: str) -> bool: ...

    def save_tokens(self, code: str, tokens: Tokens, now: datetime) -> None: ...

    def note_push(self, code: str, now: datetime, *, refusal: str | None = None,
                  count: int = 1) -> None: ...

    def note_error(self, code: str, now: datetime, message: str) -> None: ...

    def note_pull(self, code: str, now: datetime, summary: JsonObject,
                  watermark: datetime | None) -> None: ...

    def due_pulls(self, now: datetime) -> list[tuple[str, datetime | None]]: ...

    def add_push(self, code: str, push_key: str, body: str, notices: int,
                 now: datetime) -> bool: ...

    def add_job(self, key: str, code: str, external_id: str, origin: str,
                raw: JsonObject | None, now: datetime) -> bool: ...

    def claim_jobs(self, worker: str, limit: int, lease: timedelta,
                   now: datetime) -> list[JobRow]: ...

    def finish_jobs(self, seqs: Sequence[int], now: datetime, *, status: str = "done",
                    error: str | None = None) -> None: ...

    def retry_jobs(self, seqs: Sequence[int], error: str, at: datetime) -> None: ...

    def requeue_job(self, seq: int, now: datetime) -> bool: ...

    def channel_order_of(self, order_id: str) -> tuple[str, str] | None: ...

    def job_counts(self) -> dict[tuple[str, str], int]: ...

    def channel_order(self, code: str, external_id: str) -> ChannelOrderRow | None: ...

    def put_channel_order(self, code: str, external_id: str, values: JsonObject,
                          now: datetime) -> None: ...

    def add_raw(self, order_id: str, source: str, version: str, payload: object,
                now: datetime) -> None: ...

    def quarantine(self, code: str, platform: str, external_id: str, field: str | None,
                   reason: str, reason_zh: str, raw: str, now: datetime) -> int: ...

    def quarantined(self, seq: int) -> QuarantinedRow | None: ...

    def mark_replayed(self, seq: int, now: datetime) -> None: ...

    def returns_watermark(self, code: str) -> datetime | None: ...

    def note_returns_pull(self, code: str, watermark: datetime) -> None: ...

    def job(self, key: str) -> JobState | None: ...

    def revive_job(self, key: str, raw: JsonObject | None, now: datetime) -> bool: ...
