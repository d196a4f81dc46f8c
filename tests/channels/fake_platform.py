"""A platform made for the channel core's tests: an in-memory shop behind the ChannelClient
protocol, pushes signed with HMAC-SHA256 hex over the raw body (header x-fake-signature).
It exercises the hub's side (jobs, apply, dedup, quarantine, pulls, tokens, rate limits)
without any one platform's format; each real platform has its own tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from orderpilot.adapters.channels.base import (
    ChannelPlatform,
    PlatformError,
    ReturnPage,
    ReturnSupport,
    read_json,
)
from orderpilot.domain.channel_orders import (
    Account,
    ChannelLine,
    ChannelOrder,
    Hook,
    OrderPage,
    PushNotice,
    RateLimited,
    StatusChange,
    StatusRow,
    TokenExpired,
    Tokens,
    iso,
    money,
    unmappable,
)
from orderpilot.domain.channel_returns import ChannelReturn
from orderpilot.integrations.registry import Integration

STATUS = {"pending": "system.status", "paid": "payment.succeeded",
          "cancelled": "order.cancelled", "shipped": "system.status"}


@dataclass
class FakeShop:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_limit_next: int = 0
    expire_next: int = 0
    refreshes: int = 0
    calls: list[str] = field(default_factory=list)
    page_size: int = 3
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunded: list[str] = field(default_factory=list)  # refund_return calls, in order
    refuse_refund: str = ""  # the refusal refund_return raises, when set

    def a_return(self, rid: str, oid: str, *, status: str = "open",
                 lines: Sequence[tuple[str, int]] = (("SKU-A", 1),), reason: str = "",
                 text: str = "", updated: str = "2026-11-27T10:00:00+08:00") -> dict[str, Any]:
        raw = {"return_id": rid, "order_id": oid, "status": status, "reason": reason,
               "text": text, "updated_at": updated,
               "lines": [{"sku": s, "qty": q} for s, q in lines]}
        self.returns[rid] = raw
        return raw

    def order(self, oid: str, *, status: str = "paid", updated: str = "2026-11-26T10:05:00+08:00",
              lines: Sequence[tuple[str, int, str]] = (("SKU-A", 2, "10.00"),),
              voucher: str = "0.00", currency: str = "SGD", line1: str = "1 Orchard Rd",
              cancelled: Mapping[str, int] | None = None) -> dict[str, Any]:
        subtotal = sum(Decimal(p) * q for _, q, p in lines)
        raw = {"id": int(oid), "status": status, "currency": currency,
               "created_at": "2026-11-26T10:00:00+08:00", "updated_at": updated,
               "buyer": {"name": "T***n", "phone": "******64"},
               "address": {"country": "SG", "line1": line1, "postal_code": "238801"},
               "lines": [{"sku": s, "qty": q, "price": Decimal(p),
                          "cancelled": (cancelled or {}).get(s, 0)} for s, q, p in lines],
               "shipping": Decimal("2.50"), "voucher": Decimal(voucher),
               "paid": subtotal + Decimal("2.50") - Decimal(voucher)}
        self.orders[oid] = raw
        return raw

    def _gate(self, what: str) -> None:
        self.calls.append(what)
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            raise RateLimited("slow down", 0.0)
        if self.expire_next:
            self.expire_next -= 1
            raise TokenExpired()


class FakeClient:
    def __init__(self, shop: FakeShop, account: Account) -> None:
        self.shop, self.account = shop, account

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        self.shop._gate("list")
        found = sorted(oid for oid, o in self.shop.orders.items()
                       if since <= iso(o["updated_at"], "u") < until)
        start = int(cursor or 0)
        page = found[start:start + self.shop.page_size]
        more = start + self.shop.page_size < len(found)
        return OrderPage(refs=tuple(page), next_cursor=str(start + len(page)) if more else None)

    def get_orders(self, external_ids: Sequence[str]) -> list[dict[str, Any]]:
        self.shop._gate("get")
        return [json.loads(json.dumps(self.shop.orders[i], default=str), parse_float=Decimal)
                for i in external_ids if i in self.shop.orders]

    def refresh(self) -> Tokens | None:
        self.shop.refreshes += 1
        return Tokens(f"token-{self.shop.refreshes}", "refresh",
                      datetime.now(UTC) + timedelta(hours=4))

    def check(self) -> str:
        self.shop._gate("check")
        return "fake shop"

    def lost_pushes(self) -> list[PushNotice]:
        return []

    def list_returns(self, since: datetime, until: datetime,
                     cursor: str | None) -> ReturnPage:
        self.shop._gate("list_returns")
        found = sorted(rid for rid, r in self.shop.returns.items()
                       if since <= iso(r["updated_at"], "u") < until)
        return ReturnPage(refs=tuple(found))

    def get_returns(self, return_ids: Sequence[str]) -> list[dict[str, Any]]:
        self.shop._gate("get_returns")
        return [dict(self.shop.returns[i]) for i in return_ids if i in self.shop.returns]

    def refund_return(self, ret: ChannelReturn) -> None:
        self.shop._gate("refund")
        if self.shop.refuse_refund:
            raise PlatformError(self.shop.refuse_refund, transient=False)
        self.shop.refunded.append(ret.return_id)
        self.shop.returns[ret.return_id]["status"] = "refunded"

    def confirm_lost(self, notices: Sequence[PushNotice]) -> None:
        return None


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    if "id" not in raw:
        raise unmappable("id", "the order has no id", "订单没有编号")
    status = str(raw.get("status"))
    if status not in STATUS:
        raise unmappable("status", f"unknown status {status!r}", f"未知状态 {status!r}")
    updated = iso(raw["updated_at"], "updated_at")
    lines = tuple(ChannelLine(str(ln["sku"]), int(ln["qty"]), money(ln["price"], "price"),
                              cancelled_quantity=int(ln.get("cancelled") or 0))
                  for ln in raw["lines"])
    statuses = (StatusChange(STATUS[status], status, updated),) if status != "pending" else ()
    return ChannelOrder(
        external_id=str(raw["id"]), placed_at=iso(raw["created_at"], "created_at"),
        updated_at=updated, currency=str(raw["currency"]), status=status,
        buyer_name=str(raw["buyer"]["name"]), buyer_phone=str(raw["buyer"]["phone"]),
        address=dict(raw["address"]), lines=lines,
        shipping_fee=money(raw["shipping"], "shipping"), paid_total=money(raw["paid"], "paid"),
        adjustments=(("platform_voucher", -money(raw["voucher"], "voucher")),),
        statuses=statuses)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(account: Account, hook: Hook, body: bytes) -> bool:
    given = hook.headers.get("x-fake-signature", "")
    return hmac.compare_digest(given, sign(account.secret("webhook_secret"), body))


RETURN_STATUS = {"open": "requested", "agreed": "accepted", "cancelled": "cancelled",
                 "refunded": "refunded"}
RETURN_TAGS = {"WRONG": "wrong_item"}


def map_return(raw: Mapping[str, Any], account: Account) -> ChannelReturn:
    if not raw.get("return_id"):
        raise unmappable("return_id", "the return has no id", "退货没有编号")
    status = str(raw.get("status"))
    if status not in RETURN_STATUS:
        raise unmappable("status", f"unknown return status {status!r}",
                         f"未知退货状态 {status!r}")
    reason = str(raw.get("reason") or "")
    return ChannelReturn(
        return_id=str(raw["return_id"]), order_external_id=str(raw["order_id"]),
        status=RETURN_STATUS[status], platform_status=status,
        lines=tuple((str(ln["sku"]), int(ln["qty"])) for ln in raw["lines"]),
        updated_at=iso(raw["updated_at"], "updated_at"), reason_text=str(raw.get("text") or ""),
        reason_code=reason, reason_tags=(RETURN_TAGS[reason],) if reason in RETURN_TAGS else ())


def read_push(body: bytes) -> list[PushNotice]:
    data = read_json(body, "push")
    if isinstance(data, dict) and "return_id" in data:  # a return notice
        return [PushNotice(str(data["return_id"]), hashlib.sha256(body).hexdigest(),
                           raw=data.get("return"), kind="return")]
    if not isinstance(data, dict) or "order_id" not in data:
        raise unmappable("order_id", "the push names no order", "推送没有订单编号")
    return [PushNotice(str(data["order_id"]), hashlib.sha256(body).hexdigest(),
                       raw=data.get("order"))]


class FakeSettings(BaseModel):
    pass


def integration(shop: FakeShop, name: str = "shopify") -> Integration[Any]:
    platform = ChannelPlatform(
        platform=name, title_zh="测试店", title_en="Test shop",
        default_base_url=lambda region: "https://fake.example",
        client=lambda account, http, clock: FakeClient(shop, account),
        verify_push=verify, read_push=read_push, map_order=map_order,
        statuses=tuple(StatusRow(s, e, s, s) for s, e in STATUS.items()),
        fetch_batch=2, region_currency={"SG": "SGD"},
        returns=ReturnSupport(map_return=map_return, fetch_batch=2, refunds=True,
                              reason_tags=RETURN_TAGS))
    return Integration(name=name, title_zh="测试店", title_en="Test shop",
                       provides=frozenset({"order_source"}), settings=FakeSettings,
                       configure=lambda s: FakeSettings(),
                       origins=lambda s: ("https://fake.example",), channel=platform)
