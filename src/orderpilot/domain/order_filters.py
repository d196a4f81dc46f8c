"""What an orders list may be filtered, searched and sorted by: one shape for the API, the
console, saved views and bulk actions on "the whole filter".

A filter is read from query-string texts (``parse``) and written back to them (``as_query``),
so a saved view or a link is the same filter the list used. Searching by a buyer's phone tail
(手机尾号) or address fragment needs ``orders.search_buyer`` (``searches_buyer``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import filter_time

SORTS = ("newest", "placed_desc", "placed_asc", "total_desc", "total_asc", "updated_asc")
PHONE_TAIL = re.compile(r"^[0-9]{4,20}$")
CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MAX_TEXT = 100


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""                      # order number, order id or buyer name
    status: str = ""
    channel: str = ""
    shop: str = ""                   # the channel account's shop id
    sku: str = ""
    reason: str = ""                 # an active hold's reason
    tag: str = ""
    held: bool | None = None
    placed_from: date | None = None  # Beijing days, both ends included
    placed_to: date | None = None
    currency: str = ""
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    phone: str = ""                  # the last 4+ digits of the buyer's phone
    address: str = ""                # a fragment of the street, district or city
    updated_since: datetime | None = None
    sort: str = "newest"

    @property
    def searches_buyer(self) -> bool:
        return bool(self.phone or self.address)

    def as_query(self) -> dict[str, str]:
        """The non-default fields as query-string texts (``parse`` reads them back)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == "" or (f.name == "sort" and value == "newest"):
                continue
            if isinstance(value, bool):
                out[f.name] = "yes" if value else "no"
            elif isinstance(value, date | datetime):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = str(value)
        return out


# Each parameter's name in Chinese: a message in the console names what a person typed in.
LABELS_ZH = {"q": "搜索内容", "status": "状态", "channel": "渠道", "shop": "店铺", "sku": "SKU",
             "reason": "冻结原因", "tag": "标签", "held": "冻结", "placed_from": "下单开始日期",
             "placed_to": "下单结束日期", "currency": "币种", "min_total": "最低金额",
             "max_total": "最高金额", "phone": "手机尾号", "address": "地址",
             "updated_since": "更新时间起点", "sort": "排序"}


def _invalid(field: str, en: str, zh: str) -> InvalidInput:
    return InvalidInput(f"{field}: {en}", field=field, zh=f"{LABELS_ZH.get(field, field)}：{zh}")


def _text(params: Mapping[str, str], name: str, *, pattern: re.Pattern[str] | None = None,
          shortest: int = 1) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        return ""
    if len(value) > MAX_TEXT:
        raise _invalid(name, f"at most {MAX_TEXT} characters", f"最多 {MAX_TEXT} 个字符")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _invalid(name, "contains a control character", "含有控制字符")
    if len(value) < shortest:
        raise _invalid(name, f"at least {shortest} characters", f"至少 {shortest} 个字符")
    if pattern is not None and not pattern.match(value):
        raise _invalid(name, f"{value!r} is not a valid code", f"{value!r} 不是有效的代码")
    return value


def _day(params: Mapping[str, str], name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(name, "expected a date like 2026-11-26",
                       "应为日期，如 2026-11-26") from None


def _amount(params: Mapping[str, str], name: str) -> Decimal | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or exponent < -2 \
            or amount < 0 or amount >= 10**12 or "e" in value.lower():
        raise _invalid(name, "expected an amount like 199.00", "应为金额，如 199.00")
    return amount


def _flag(params: Mapping[str, str], name: str) -> bool | None:
    value = (params.get(name) or "").strip().lower()
    if value in ("", "any"):
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise _invalid(name, "expected yes or no", "应为 yes 或 no")


def _since(params: Mapping[str, str], name: str) -> datetime | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(name, "expected an ISO time like 2026-11-26T10:00:00+08:00",
                       "应为 ISO 时间，如 2026-11-26T10:00:00+08:00") from None
    return filter_time(moment, name)


def parse(params: Mapping[str, str]) -> OrderFilter:
    """A filter from query-string texts; a bad value is a 4xx naming its parameter."""
    phone = re.sub(r"[\s\-]", "", (params.get("phone") or "").strip())
    if phone and not PHONE_TAIL.match(phone):
        raise _invalid("phone", "give the last 4 or more digits of the phone",
                       "请输入手机号的后 4 位或更多位数字")
    sort = (params.get("sort") or "").strip() or "newest"
    if sort not in SORTS:
        raise _invalid("sort", f"expected one of {', '.join(SORTS)}",
                       f"应为以下之一：{', '.join(SORTS)}")
    found = OrderFilter(
        q=_text(params, "q"), status=_text(params, "status", pattern=CODE),
        channel=_text(params, "channel", pattern=CODE).lower(),
        shop=_text(params, "shop"), sku=_text(params, "sku"),
        reason=_text(params, "reason", pattern=CODE), tag=_text(params, "tag"),
        held=_flag(params, "held"), placed_from=_day(params, "placed_from"),
        placed_to=_day(params, "placed_to"),
        currency=_text(params, "currency", pattern=re.compile(r"^[A-Za-z]{3}$")).upper(),
        min_total=_amount(params, "min_total"), max_total=_amount(params, "max_total"),
        phone=phone, address=_text(params, "address", shortest=2),
        updated_since=_since(params, "updated_since"), sort=sort)
    if found.placed_from and found.placed_to and found.placed_from > found.placed_to:
        raise _invalid("placed_to", "ends before placed_from", "早于开始日期")
    if found.min_total is not None and found.max_total is not None \
            and found.min_total > found.max_total:
        raise _invalid("max_total", "is below min_total", "小于最低金额")
    if (found.min_total is not None or found.max_total is not None) and not found.currency:
        # 500 SGD and 500 CNY are not the same amount: a range needs its currency.
        raise _invalid("currency", "an amount range needs a currency (CNY, SGD...)",
                       "金额范围需要指定币种（CNY、SGD…）")
    return found
