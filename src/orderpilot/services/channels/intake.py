"""Turning raw platform orders into canonical ones, a batch in one transaction.

Each raw order is mapped (the platform's ``map_order``), explained (any gap between its lines
and what the buyer paid becomes a named adjustment) and checked against the shop's currency;
what cannot be mapped goes to the channel quarantine with the platform, the field and the
reason, and the rest of the batch goes on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orderpilot.domain.channel_orders import Account, ChannelOrder, plain
from orderpilot.domain.errors import InvalidInput
from orderpilot.services.channels.apply import Applied, apply_order, check_currency
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.ports import Platform
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying


def raw_text(raw: Mapping[str, Any]) -> str:
    return json.dumps(plain(dict(raw)), ensure_ascii=False, sort_keys=True)


@dataclass
class Batch:
    """What one batch did: outcome counts, and the order id per external id applied."""

    counts: Counter[str] = field(default_factory=Counter)
    orders: dict[str, str] = field(default_factory=dict)
    quarantined: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Mapped:
    raw: Mapping[str, Any]
    order: ChannelOrder | None
    error: InvalidInput | None
    external_id: str
    # What was mapped when it differs from RAW (the buyer's fields decrypted). Its hash tells
    # versions apart, so a trade fetched again once the shop may decrypt updates the order.
    readable: Mapping[str, Any] | None = None


def map_one(platform: Platform, account: Account, raw: Mapping[str, Any],
            readable: Mapping[str, Any] | None = None) -> Mapped:
    """RAW mapped (READABLE, when the platform's encrypted fields were decrypted, is what is
    mapped; RAW is what is kept for audit)."""
    try:
        order = platform.map_order(raw if readable is None else readable, account).explained()
        check_currency(order, account, platform.region_currency)
        return Mapped(raw, order, None, order.external_id,
                      None if readable is None or readable == raw else readable)
    except InvalidInput as error:
        return Mapped(raw, None, error, _guess_id(raw))


def map_fetched(calls: ShopCalls, platform: Platform,
                raws: Sequence[Mapping[str, Any]]) -> list[Mapped]:
    """The fetched RAWS mapped, after the platform decrypted the buyer's fields (its
    ``reveal``, called with the shop's token, rate limits and retries). A transient failure
    raises (the fetch is retried); fields the shop may not decrypt stay withheld and the
    account's health records why."""
    if not raws or platform.reveal is None:
        return [map_one(platform, calls.account, raw) for raw in raws]
    reveal = platform.reveal
    revealed = calls.call(lambda client: reveal(client, raws))
    if revealed.problem:
        with calls.uow_factory() as uow:
            uow.channels.note_error(calls.account.code, calls.clock(),
                                    f"decrypt: {revealed.problem}")
    return [map_one(platform, calls.account, raw, readable)
            for raw, readable in zip(raws, revealed.readable, strict=True)]


def _guess_id(raw: Mapping[str, Any]) -> str:
    for key in ("order_sn", "order_id", "id", "tid", "order_number", "number"):
        value = raw.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:64]
    return ""


def apply_batch(mapped: Sequence[Mapped], account: Account, uow_factory: UowFactory,
                clock: Clock, *, finish: Any = None) -> Batch:
    """Apply every mapped order in one transaction (retried whole on a concurrent write);
    FINISH(uow, batch), if given, runs in the same transaction (the jobs' done marks)."""

    def attempt() -> Batch:
        batch = Batch()
        now = clock()
        with uow_factory() as uow:
            for item in mapped:
                result = _apply_one(uow, item, account, now)
                batch.counts[result.outcome] += 1
                if result.order_id:
                    batch.orders[item.external_id] = result.order_id
                if result.outcome == "quarantined":
                    batch.quarantined.append(item.external_id)
            if finish is not None:
                finish(uow, batch)
        return batch

    return retrying(attempt)


def _apply_one(uow: UnitOfWork, item: Mapped, account: Account, now: Any) -> Applied:
    error = item.error
    if item.order is not None:
        try:
            with uow.savepoint():
                mapped_from = item.raw if item.readable is None else item.readable
                return apply_order(uow, account, item.order, mapped_from,
                                   plain(dict(item.raw)), now)
        except InvalidInput as refused:
            error = refused
    assert error is not None
    uow.channels.quarantine(account.code, account.platform, item.external_id, error.field,
                            error.message, error.message_zh, raw_text(item.raw), now)
    return Applied("quarantined", reason=error.message)
