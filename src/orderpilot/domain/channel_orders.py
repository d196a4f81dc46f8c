"""A sales channel's order as the hub reads it: the shape every platform mapping produces.

Each platform integration (integrations/<platform>/mapping.py) turns the platform's raw order
into a :class:`ChannelOrder`; the channel service (services/channels/) turns that into a
canonical order, or into events on the order it already is. Nothing here knows a platform.

Money is exact: :func:`money` takes decimal strings, integers, fen and Decimals, never a float
it would have to guess about (a platform that sends JSON numbers is read with
``parse_float=Decimal``, see adapters/channels/base.py). Times keep their real zone:
:func:`from_unix`, :func:`from_millis`, :func:`local` (a zone-less local string and the zone
the platform documents) and :func:`iso`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from orderpilot.domain.errors import InvalidInput

PLATFORMS: dict[str, tuple[str, ...]] = {
    # The credential keys, as each platform names them (issue 10).
    "shopee": ("partner_id", "partner_key", "access_token", "refresh_token"),
    "lazada": ("app_key", "app_secret", "access_token", "refresh_token"),
    # (TikTok's refresh_token is optional: without it an expired token needs a new one.)
    "tiktok": ("app_key", "app_secret", "access_token", "shop_cipher", "refresh_token"),
    "shopify": ("access_token", "webhook_secret"),
    "woocommerce": ("consumer_key", "consumer_secret", "webhook_secret"),
    "youzan": ("client_id", "client_secret", "access_token"),
}
CENT = Decimal("0.01")

# Named parts of the difference between the lines (+ shipping) and what the buyer paid.
# Negative reduces what the buyer pays. "other" is the remainder no field explains.
ADJUSTMENT_KINDS = ("seller_discount", "platform_discount", "seller_voucher",
                    "platform_voucher", "coins", "bundle_discount", "shipping_discount",
                    "tax", "service_fee", "rounding", "other")


class MappingError(InvalidInput):
    """The platform's order cannot be mapped: FIELD is the platform's own field path.
    The raw order goes to quarantine with the platform, field and reason."""


def unmappable(field: str, reason: str, zh: str) -> MappingError:
    return MappingError(reason, field=field, zh=zh, code="unmappable")


@dataclass(frozen=True)
class ChannelLine:
    sku: str  # the seller's SKU, or the platform's item/variation ids when the seller gave none
    quantity: int
    unit_price: Decimal  # before any discount
    discount: Decimal = Decimal("0.00")  # on the whole line (all units)
    name: str = ""
    item_ids: tuple[str, ...] = ()  # the platform's line ids (Lazada: one per unit)
    statuses: tuple[str, ...] = ()  # per-item platform statuses (Lazada), as sent
    cancelled_quantity: int = 0  # units the platform cancelled (partial cancellation)

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True)
class StatusChange:
    """What the platform's status means for the lifecycle: EVENT_TYPE is a lifecycle event
    type (payment.succeeded, order.cancelled, ...) or "system.status" (the storefront's view
    only). STATUS is the platform's status as sent; OCCURRED_AT the platform's time."""

    event_type: str
    status: str
    occurred_at: datetime


@dataclass(frozen=True)
class Package:
    package_id: str
    tracking_number: str = ""
    carrier: str = ""
    status: str = ""
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelOrder:
    external_id: str  # the platform's order id, as a string, exact
    placed_at: datetime
    updated_at: datetime  # the platform's last update: orders out-of-order pushes
    currency: str
    status: str  # the platform's order status, as sent
    buyer_name: str  # as received (masked or encrypted values are kept as they are)
    buyer_phone: str
    address: dict[str, str]  # country (ISO 2), province, city, district, line1, postal_code
    lines: tuple[ChannelLine, ...]
    shipping_fee: Decimal
    paid_total: Decimal  # what the buyer paid, the platform's figure
    adjustments: tuple[tuple[str, Decimal], ...] = ()  # (kind, signed amount)
    statuses: tuple[StatusChange, ...] = ()  # oldest first
    packages: tuple[Package, ...] = ()
    buyer_note: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # platform facts worth showing

    def explained(self) -> ChannelOrder:
        """This order with any difference between lines + shipping + adjustments and the
        paid total added as an "other" adjustment: the platform's figures are kept, never
        corrected, and the difference is named."""
        gap = self.paid_total - self.expected_total()
        if gap == 0:
            return self
        return _replace(self, adjustments=(*self.adjustments, ("other", gap)))

    def expected_total(self) -> Decimal:
        return (sum((ln.amount for ln in self.lines), Decimal("0.00")) + self.shipping_fee
                + sum((amount for _, amount in self.adjustments), Decimal("0.00")))


def _replace(order: ChannelOrder, **changes: object) -> ChannelOrder:
    return replace(order, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PushNotice:
    """One thing a push tells: an order (by id, or whole) changed.

    DEDUP_KEY is unique per push and order (a replayed push has the same key and changes
    nothing). RAW is the whole platform order when the push carries it (Shopify,
    WooCommerce); otherwise the hub fetches it."""

    external_id: str
    dedup_key: str
    status: str = ""
    update_time: datetime | None = None
    raw: dict[str, object] | None = None
    # order | return (EXTERNAL_ID is then the platform's return id, RAW the whole return when
    # the push carries it) | return_scan (EXTERNAL_ID is an order that has a return the push
    # does not name: the hub lists the account's recent returns) | other (a push the hub
    # records but does not act on)
    kind: str = "order"


def money(value: object, field: str, *, fen: bool = False) -> Decimal:
    """An exact amount from what a platform sends: "12.30", 12, Decimal("12.3"), or fen
    (an integer count of cents, FEN=True). A float is refused: read JSON with
    ``parse_float=Decimal`` so nothing arrives as one."""
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise unmappable(field, f"{field} is not an exact amount: {value!r}",
                         f"{field} 不是精确金额：{value!r}")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise unmappable(field, f"{field} is not a number: {str(value)[:40]!r}",
                         f"{field} 不是数字：{str(value)[:40]!r}") from None
    if not amount.is_finite():
        raise unmappable(field, f"{field} is not a finite amount", f"{field} 不是有限金额")
    if fen:
        if amount != amount.to_integral_value():
            raise unmappable(field, f"{field} is in fen and must be whole: {value!r}",
                             f"{field} 以分为单位，应为整数：{value!r}")
        amount = amount / 100
    if amount != amount.quantize(CENT):
        raise unmappable(field, f"{field} has more than two decimal places: {value!r}",
                         f"{field} 的小数超过两位：{value!r}")
    return amount.quantize(CENT)


def from_unix(value: object, field: str) -> datetime:
    """Unix seconds (int or digit string) as a UTC time."""
    try:
        seconds = int(str(value))
    except (TypeError, ValueError):
        raise unmappable(field, f"{field} is not unix seconds: {value!r}",
                         f"{field} 不是 Unix 秒：{value!r}") from None
    return datetime.fromtimestamp(seconds, UTC)


def from_millis(value: object, field: str) -> datetime:
    """Unix milliseconds as a UTC time."""
    try:
        millis = int(str(value))
    except (TypeError, ValueError):
        raise unmappable(field, f"{field} is not unix milliseconds: {value!r}",
                         f"{field} 不是 Unix 毫秒：{value!r}") from None
    return datetime.fromtimestamp(millis / 1000, UTC)


def local(value: object, zone: str, field: str,
          fmt: str = "%Y-%m-%d %H:%M:%S") -> datetime:
    """A zone-less local time string (e.g. Youzan's "2026-03-01 10:20:30", Beijing time) in
    ZONE (an IANA name such as Asia/Shanghai), or an ISO string with its own offset."""
    text = str(value or "").strip()
    try:
        if "T" in text:
            return iso(text, field)
        return datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise unmappable(field, f"{field} is not a time like {fmt}: {text[:40]!r}",
                         f"{field} 不是 {fmt} 格式的时间：{text[:40]!r}") from None


def iso(value: object, field: str) -> datetime:
    """An ISO 8601 time with an offset (Shopify "2026-03-01T10:20:30-05:00", "...Z")."""
    text = str(value or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise unmappable(field, f"{field} is not an ISO time: {text[:40]!r}",
                         f"{field} 不是 ISO 时间：{text[:40]!r}") from None
    if parsed.tzinfo is None:
        raise unmappable(field, f"{field} has no time zone: {text[:40]!r}",
                         f"{field} 没有时区：{text[:40]!r}")
    return parsed


def fixed_zone(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


def ids_text(value: object, field: str) -> str:
    """A platform id as exact text: ints stay exact (ids above 2**53 exist), strings as sent."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise unmappable(field, f"{field} is not an id: {value!r}", f"{field} 不是编号：{value!r}")
    text = str(value).strip()
    if not text:
        raise unmappable(field, f"{field} is empty", f"{field} 为空")
    return text


def plain(value: Any) -> Any:
    """VALUE with Decimals as int or float, for a JSON column (the raw order as kept: money
    read from it again goes through ``money()`` in a mapping, never from here)."""
    if isinstance(value, Decimal):
        exact = value == value.to_integral_value() and "." not in str(value) \
            and "E" not in str(value).upper()
        return int(value) if exact else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def text(value: object, limit: int = 200) -> str:
    """Free text as received, trimmed and cut to LIMIT, control characters turned to spaces."""
    if value is None:
        return ""
    return "".join(" " if ord(c) < 32 else c for c in str(value)).strip()[:limit]


# What a platform client and the hub exchange about one shop (the adapters' clients build
# and raise these; the service layer reads them without knowing a platform).


@dataclass(frozen=True)
class Tokens:
    access_token: str = ""
    refresh_token: str = ""
    expires_at: datetime | None = None  # None: the platform's token does not expire
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True)
class Account:
    """One shop on one platform, as configured with PUT /api/v1/channels/{code}."""

    code: str
    platform: str
    shop_id: str
    region: str = ""  # e.g. SG, MY, TH (Shopee, Lazada, TikTok); "" when the platform has none
    base_url: str = ""  # "" means the platform's documented production host
    callback_url: str = ""  # the URL the platform pushes to (Shopee signs over it)
    credentials: Mapping[str, str] = field(default_factory=dict)  # secrets: never shown
    tokens: Tokens = Tokens()
    currency: str = ""  # the shop's currency ("" = the platform's default for the region)

    def secret(self, key: str) -> str:
        return self.credentials.get(key, "")


@dataclass(frozen=True)
class OrderPage:
    """One page of a list-by-update-time call. REFS: order ids to fetch in full; RAWS: whole
    orders when the list already carries them (Shopify, WooCommerce). NEXT_CURSOR is None on
    the last page."""

    refs: tuple[str, ...] = ()
    raws: tuple[dict[str, Any], ...] = ()
    next_cursor: str | None = None


@dataclass(frozen=True)
class Revealed:
    """Raw orders made readable for mapping (a platform that encrypts the buyer's fields
    decrypts them first). READABLE[i] is RAWS[i] with the plain values; the raw order kept for
    audit stays as the platform sent it. PROBLEM, when set, says why some fields stay withheld
    (domain/withheld.py): the channel's health shows it."""

    readable: tuple[Mapping[str, Any], ...]
    problem: str | None = None


@dataclass(frozen=True)
class Hook:
    """A push as received: the exact raw bytes are passed beside it."""

    url: str  # the full URL the platform called (Shopee signs over its callback URL)
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]


@dataclass(frozen=True)
class HookAnswer:
    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"


class ChannelError(Exception):
    def __init__(self, message: str, *, transient: bool = True,
                 status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status_code = status_code


class PlatformError(ChannelError):
    """The platform said no, or answered something the client cannot read."""


class RateLimited(ChannelError):
    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message, transient=True, status_code=429)
        self.retry_after_s = retry_after_s


class TokenExpired(ChannelError):
    def __init__(self, message: str = "access token expired") -> None:
        super().__init__(message, transient=True, status_code=401)


@dataclass(frozen=True)
class StatusRow:
    status: str  # the platform's status
    event_type: str  # lifecycle event type, or system.status (storefront view only)
    zh: str
    en: str
