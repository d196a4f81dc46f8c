"""Staff tools for a channel: the connection test and replaying a quarantined order."""

from __future__ import annotations

import json
import time
from typing import Any

from orderpilot.domain.channel_orders import Account, ChannelError
from orderpilot.domain.channel_returns import is_return_raw
from orderpilot.domain.errors import Conflict, NotFound, PermanentError, TransientError
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.intake import Mapped, apply_batch, map_fetched, map_one
from orderpilot.services.channels.ports import Gateway, Platform
from orderpilot.services.channels.pull import load_account
from orderpilot.services.channels.return_intake import (
    RETURN_ORIGIN,
    guess_return_id,
    map_return,
    return_job_key,
    take,
)
from orderpilot.services.unit_of_work import Clock, UowFactory


def test_connection(code: str, uow_factory: UowFactory, gateway: Gateway,
                    clock: Clock) -> dict[str, Any]:
    """One cheap authenticated call; never raises for the platform's answer: it is shown."""
    account = load_account(uow_factory, code)
    started = time.perf_counter()
    try:
        calls = ShopCalls(account, gateway, uow_factory, clock)
        detail = calls.call(lambda c: c.check())
        ok, error = True, None
    except ChannelError as failed:
        ok, detail, error = False, "", failed.message
    return {"ok": ok, "detail": detail, "error": error,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def replay(code: str, seq: int, uow_factory: UowFactory, gateway: Gateway,
           clock: Clock) -> dict[str, Any]:
    """Map a quarantined order again (after a mapping fix) and apply it. Still unmappable:
    a new quarantine row says why, and this one stays held."""
    with uow_factory() as uow:
        row = uow.channels.quarantined(seq)
    if row is None or row.account != code:
        raise NotFound(f"channel {code} has no quarantined item {seq}", field="seq",
                       zh=f"渠道 {code} 没有隔离记录 {seq}")
    if row.status != "held":
        raise Conflict(f"quarantined item {seq} was already replayed", field="seq",
                       zh=f"隔离记录 {seq} 已重放")
    account = load_account(uow_factory, code)
    platform = gateway.platforms()[account.platform]
    try:
        raw = json.loads(row.raw, parse_float=__import__("decimal").Decimal)
    except ValueError:
        raw = None
    if is_return_raw(raw):
        return _replay_return(seq, raw["channel_return"], account, platform, uow_factory, clock)
    if not isinstance(raw, dict):
        raise Conflict(f"quarantined item {seq} is a push that could not be read, not an "
                       f"order; it cannot be replayed", field="seq",
                       zh=f"隔离记录 {seq} 是无法读取的推送，不是订单，无法重放")
    item = map_one(platform, account, raw) if platform.reveal is None else _readable_item(
        code, platform, raw, ShopCalls(account, gateway, uow_factory, clock))

    def finish(uow: Any, batch: Any) -> None:
        if not batch.quarantined:
            uow.channels.mark_replayed(seq, clock())

    batch = apply_batch([item], account, uow_factory, clock, finish=finish)
    outcome = next(iter(batch.counts))
    return {"seq": seq, "outcome": outcome, "order_id": batch.orders.get(item.external_id),
            "still_quarantined": bool(batch.quarantined)}


def _replay_return(seq: int, raw: dict[str, Any], account: Account, platform: Platform,
                   uow_factory: UowFactory, clock: Clock) -> dict[str, Any]:
    """Take a quarantined return again (after a fix: the order's lines, the mapping)."""
    support = platform.returns
    if support is None:
        raise Conflict(f"{platform.platform} brings no returns; item {seq} cannot be replayed",
                       field="seq", zh=f"{platform.platform} 不提供退货，隔离记录 {seq} 无法重放")
    outcome = take(map_return(support, account, raw), raw, account, uow_factory, clock)
    if outcome.outcome != "quarantined":
        with uow_factory() as uow:
            uow.channels.mark_replayed(seq, clock())
            if outcome.outcome == "waiting":  # the order is not in yet: its job takes it
                rid = guess_return_id(raw) or str(seq)
                uow.channels.add_job(return_job_key(account.code, f"replay:{seq}"),
                                     account.code, rid, RETURN_ORIGIN, raw, clock())
    return {"seq": seq, "outcome": outcome.outcome, "return_id": outcome.return_id,
            "still_quarantined": outcome.outcome == "quarantined"}


def _readable_item(code: str, platform: Any, raw: dict[str, Any], calls: ShopCalls) -> Mapped:
    """RAW mapped as a fetch maps it (the platform's encrypted fields decrypted first)."""
    try:
        return map_fetched(calls, platform, [raw])[0]
    except ChannelError as failed:
        error = TransientError if failed.transient else PermanentError
        raise error(f"{platform.platform} could not decrypt the order's buyer fields, nothing "
                    f"was replayed (channel {code}): {failed.message}",
                    status_code=failed.status_code,
                    zh=f"无法解密该订单的买家信息，未重放（渠道 {code}）") from None
