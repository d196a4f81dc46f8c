"""Stored inventory state as the service layer sees it: levels, allocations, sync runs, pulls,
promotions and their claims, as frozen values.

Records named after a table have its columns in the table's order (see ``domain/records.py``);
views (``LevelView``, ``ClaimView``, ``SourceTotals``) say which values are joined in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple, TypedDict

from orderpilot.domain.records import JsonObject

ACTIVE = "active"  # an allocation that holds stock (then released, expired or consumed)


class LevelState(NamedTuple):
    """A level's counters right after a change: enough to tell whether it crossed low."""

    source: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    low_threshold: int
    low: bool

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class Allocation(NamedTuple):
    id: str
    order_id: str
    line_no: int | None
    promotion_id: str | None
    sku: str
    source: str
    quantity: int
    status: str
    reserved_until: datetime | None
    created_at: datetime
    ended_at: datetime | None


class Level(NamedTuple):
    source: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int | None
    low_threshold: int | None
    low: bool
    expected_at: date | None
    as_of: datetime
    updated_at: datetime


class LevelView(NamedTuple):
    """A level with its source's kind and names, and the safety stock and low threshold in
    force (the level's own, else its source's)."""

    source: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int | None
    low_threshold: int | None
    low: bool
    expected_at: date | None
    as_of: datetime
    updated_at: datetime
    kind: str
    name_zh: str
    name_en: str
    safety: int
    threshold: int


class SourceTotals(NamedTuple):
    source: str
    skus: int
    on_hand: int | None
    reserved: int | None
    low: int | None
    as_of: datetime | None


class Drift(TypedDict):
    """A level whose reserved counter had drifted from what is really held."""

    source: str
    sku: str
    was: int
    now: int


class SyncRun(NamedTuple):
    id: str
    source_event_id: str | None
    method: str
    source: str | None
    request_hash: str | None
    status: str
    started_at: datetime
    finished_at: datetime
    changes: int
    errors: list[object]
    outcome: JsonObject


class Pull(NamedTuple):
    """A claimed pull, as the puller carries it out."""

    id: str
    source: str
    due_at: datetime
    reason: str
    attempts: int


class PullRecord(NamedTuple):
    id: str
    source: str
    due_at: datetime
    status: str
    reason: str
    attempts: int
    claimed_by: str | None
    claimed_until: datetime | None
    run_id: str | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class PendingTimer(NamedTuple):
    key: str
    fire_at: datetime
    payload: JsonObject


class Promotion(NamedTuple):
    id: str
    name: str
    trigger_sku: str
    gift_sku: str
    gift_source: str
    gift_quantity: int
    quota: int
    claimed: int
    channel: str | None
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class PromotionClaim(NamedTuple):
    promotion_id: str
    order_id: str
    gift_sku: str
    quantity: int
    status: str
    claimed_at: datetime
    released_at: datetime | None


class ClaimView(NamedTuple):
    """A claim with the order it went to."""

    promotion_id: str
    order_id: str
    gift_sku: str
    quantity: int
    status: str
    claimed_at: datetime
    released_at: datetime | None
    channel: str
    external_id: str
    order_status: str


class Waiting(NamedTuple):
    """An order held out of stock, waiting for a SKU; (placed_at, seq) is its place in line."""

    order_id: str
    placed_at: datetime
    seq: int
