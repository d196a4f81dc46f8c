"""Spreadsheet rows to PlaceOrder commands: the import side of Excel/CSV transfer (S1).

Staff sheets hold one order line per row; the order's own columns (buyer, address, totals) are
repeated on each of its rows or left blank after the first. Rows are grouped by channel + shop +
external id. A bad row rejects its whole order, so an order is imported completely or not at
all, and every rejected row is reported with the number staff see in Excel (header = row 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.errors import InvalidInput, OrderpilotError
from orderpilot.domain.intake import build_order
from orderpilot.domain.money import parse_money
from orderpilot.domain.sheet_limits import SheetLimits
from orderpilot.domain.times import SHANGHAI

RAW_VERSION = "sheet-v1"
# Order lines one import reads; a bigger file is split (each part imports on its own).
MAX_IMPORT_ROWS = 50_000
SHEET_LIMITS = SheetLimits(max_rows=MAX_IMPORT_ROWS, max_file_bytes=64 * 1024 * 1024)


@dataclass(frozen=True)
class Column:
    field: str
    zh: str
    en: str
    kind: str  # text | time | money | int
    per_line: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.zh} / {self.en}"


COLUMNS: tuple[Column, ...] = (
    Column("channel", "渠道", "channel", "text", aliases=("平台", "销售渠道")),
    Column("shop_id", "店铺", "shop_id", "text", aliases=("店铺编号", "店铺id", "shop")),
    Column("external_id", "平台订单号", "external_id", "text",
           aliases=("订单号", "订单编号", "order_no", "external_order_id")),
    Column("placed_at", "下单时间", "placed_at", "time", aliases=("下单日期", "order_time")),
    Column("currency", "币种", "currency", "text", aliases=("货币",)),
    Column("customer_name", "收货人", "customer_name", "text",
           aliases=("收件人", "买家", "客户姓名", "customer")),
    Column("phone", "手机", "phone", "text", aliases=("手机号", "电话", "联系电话", "mobile")),
    Column("country", "国家", "country", "text"),
    Column("province", "省", "province", "text", aliases=("省份",)),
    Column("city", "市", "city", "text", aliases=("城市",)),
    Column("district", "区", "district", "text", aliases=("区县",)),
    Column("line1", "地址", "line1", "text", aliases=("详细地址", "收货地址", "address")),
    Column("postal_code", "邮编", "postal_code", "text", aliases=("邮政编码", "zip")),
    Column("sku", "SKU", "sku", "text", True, ("商品编码", "货号")),
    Column("name", "商品名称", "name", "text", True, ("品名", "product_name")),
    Column("quantity", "数量", "quantity", "int", True, ("qty",)),
    Column("unit_price", "单价", "unit_price", "money", True, ("price",)),
    Column("discount", "优惠", "discount", "money", True, ("优惠金额", "折扣")),
    Column("shipping_fee", "运费", "shipping_fee", "money"),
    Column("total", "实付总额", "total", "money", aliases=("实付金额", "订单总额")),
    Column("tags", "标签", "tags", "text"),
)
# Written by export and by the rejects file; known, so re-importing those files is quiet.
INFO_COLUMNS: tuple[Column, ...] = (
    Column("order_id", "订单ID", "order_id", "text"),
    Column("status", "状态", "status", "text"),
    Column("reason", "原因", "reason", "text"),
    Column("source_row", "原行号", "source_row", "int"),
)
BY_FIELD = {c.field: c for c in (*COLUMNS, *INFO_COLUMNS)}
REQUIRED = ("shop_id", "external_id", "placed_at", "customer_name", "phone", "line1", "sku",
            "quantity", "unit_price")
CHANNEL_NAMES = {"虾皮": "shopee", "来赞达": "lazada", "有赞": "youzan", "小程序": "youzan",
                 "官网": "own_store", "独立站": "own_store", "天猫": "tmall", "京东": "jd",
                 "拼多多": "pinduoduo", "抖音": "douyin", "微信": "wechat", "线下": "offline"}
_TAG_SPLIT = re.compile(r"[,，;；|、]")


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-()（）:：]", "", text).lower()


_ALIASES = {_norm(a): c.field for c in (*COLUMNS, *INFO_COLUMNS)
            for a in (c.field, c.zh, c.en, *c.aliases)}


@dataclass(frozen=True)
class RejectedRow:
    row: int
    field: str | None
    reason: str
    values: tuple[object, ...]


@dataclass(frozen=True)
class OrderDraft:
    command: PlaceOrder
    rows: tuple[int, ...]
    field_rows: dict[str, int]  # which row supplied each order-level value, to blame it


@dataclass
class ImportPlan:
    header: list[str]
    orders: list[OrderDraft] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    raw_rows: dict[int, tuple[object, ...]] = field(default_factory=dict)
    rejected_orders: int = 0  # a row without an order key counts as one order

    def reject(self, draft: OrderDraft, error: OrderpilotError) -> None:
        """Reject a whole order: the row at fault with the reason, its other rows with a pointer."""
        row, fld = _blame(draft, error.field)
        label = BY_FIELD[fld].label if fld in BY_FIELD else (error.field or "")
        self.reject_rows(draft.rows, {row: (fld, f"{label}: {error.message}" if label
                                            else error.message)})

    def reject_rows(self, rows: Sequence[int], bad: dict[int, tuple[str | None, str]]) -> None:
        first = min(bad)
        self.rejected_orders += 1
        for n in sorted(rows):
            fld, reason = bad.get(n, (None, (f"同一订单第{first}行有误,整单未导入 / row {first} "
                                             "of the same order is rejected, so is the order")))
            self.rejected.append(RejectedRow(n, fld, reason, self.raw_rows[n]))


def map_header(header: Sequence[object]) -> tuple[dict[str, int], list[str]]:
    """Column index per field, and the header cells we do not know (ignored)."""
    found: dict[str, int] = {}
    ignored = []
    for i, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        fld = next((_ALIASES[_norm(p)] for p in (text, *text.split("/")) if _norm(p) in _ALIASES),
                   None)
        if fld is None:
            ignored.append(text)
        elif fld in found:
            raise InvalidInput(f"two columns mean {BY_FIELD[fld].label}: columns "
                               f"{found[fld] + 1} and {i + 1}", field=fld,
                               zh=f"有两列都表示{BY_FIELD[fld].label}："
                                  f"第 {found[fld] + 1} 列和第 {i + 1} 列")
        else:
            found[fld] = i
    missing = [BY_FIELD[f].label for f in REQUIRED if f not in found]
    if missing:
        raise InvalidInput(f"the header row lacks required columns: {', '.join(missing)}",
                           field=next(f for f in REQUIRED if f not in found),
                           zh=f"表头缺少必需的列：{'、'.join(missing)}")
    return found, ignored


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel turns phone numbers and order numbers into floats
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def parse_time(value: object, fld: str = "placed_at") -> datetime:
    """A cell as a moment; a time without an offset is taken as Beijing time (Asia/Shanghai)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = cell_text(value).replace("/", "-").replace("T", " ")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"not a date and time: {text[:40]!r} (use 2026-11-26 10:00:00)",
                               field=fld,
                               zh=f"不是日期时间：{text[:40]!r}"
                                  "（请使用 2026-11-26 10:00:00）") from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _money(value: object, fld: str) -> str | None:
    if value is None or cell_text(value) == "":
        return None
    if isinstance(value, float):
        value = repr(value)  # the shortest repr is what the cell shows, e.g. 19.9
    text = cell_text(value).replace("¥", "").replace("￥", "").replace(",", "")
    return str(parse_money(text, fld))


def _int(value: object, fld: str) -> int | None:
    text = cell_text(value)
    if text == "":
        return None
    if not re.fullmatch(r"-?\d+", text):
        raise InvalidInput(f"must be a whole number, not {text[:20]!r}", field=fld,
                           zh=f"应为整数，而不是 {text[:20]!r}")
    return int(text)


# A cell once read by its column's kind: text, money (decimal text), a whole number or a time.
Parsed = str | int | datetime | None


def _value(col: Column, cell: object) -> Parsed:
    if col.kind == "time":
        return None if cell_text(cell) == "" else parse_time(cell, col.field)
    if col.kind == "money":
        return _money(cell, col.field)
    if col.kind == "int":
        return _int(cell, col.field)
    text = cell_text(cell)
    if col.field == "channel":
        return CHANNEL_NAMES.get(text, text.lower())
    return text


def plan_import(header: Sequence[object], rows: Iterable[tuple[int, Sequence[object]]], *,
                source: str, now: datetime, default_channel: str | None = None,
                file_name: str = "") -> ImportPlan:
    """Group rows into orders, validate each order fully, and sort them into good and rejected."""
    columns, ignored = map_header(header)
    plan = ImportPlan([cell_text(h) for h in header], ignored_columns=ignored)
    names = [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)]
    groups: dict[tuple[str, str, str], list[ParsedRow]] = {}
    channels: dict[tuple[str, str], str] = {}
    for number, cells in rows:
        plan.raw_rows[number] = tuple(cells)
        parsed = _parse_row(number, cells, columns, default_channel)
        values = parsed.values
        ref = (_text(values, "shop_id"), _text(values, "external_id"))
        # A continuation row may leave the channel blank, like the order's other columns.
        channel = _text(values, "channel") or channels.get(ref, "")
        values["channel"] = channel
        channels.setdefault(ref, channel)
        key = (channel, *ref)
        missing = next((f for f, k in zip(("channel", "shop_id", "external_id"), key, strict=True)
                        if not k), None)
        if missing:  # without its key a row cannot be tied to an order: reject it alone
            hint = " (or pass --channel)" if missing == "channel" else ""
            plan.rejected.append(RejectedRow(number, missing, f"{BY_FIELD[missing].label}: "
                                             f"is required{hint}", tuple(cells)))
            plan.rejected_orders += 1
            continue
        groups.setdefault(key, []).append(parsed)
    for group in groups.values():
        _plan_order(plan, group, names, source, now, file_name)
    plan.rejected.sort(key=lambda r: r.row)
    return plan


@dataclass
class ParsedRow:
    number: int
    values: dict[str, Parsed]
    error: tuple[str | None, str] | None = None


def _parse_row(number: int, cells: Sequence[object], columns: dict[str, int],
               default_channel: str | None) -> ParsedRow:
    row = ParsedRow(number, {})
    for fld, i in columns.items():
        col = BY_FIELD[fld]
        if col in INFO_COLUMNS:
            continue
        try:
            row.values[fld] = _value(col, cells[i] if i < len(cells) else None)
        except InvalidInput as error:
            row.values[fld] = None
            row.error = row.error or (fld, f"{col.label}: {error.message}")
    row.values["channel"] = row.values.get("channel") or (default_channel or "").lower()
    for fld in ("sku", "quantity", "unit_price"):
        if row.values[fld] in (None, "") and row.error is None:
            row.error = (fld, f"{BY_FIELD[fld].label}: is required")
    return row


def _plan_order(plan: ImportPlan, group: list[ParsedRow], names: list[str], source: str,
                now: datetime, file_name: str) -> None:
    rows = tuple(r.number for r in group)
    bad = {r.number: r.error for r in group if r.error is not None}
    merged: dict[str, Parsed] = {}
    field_rows: dict[str, int] = {}
    for r in group:
        for fld, value in r.values.items():
            if BY_FIELD[fld].per_line or value in (None, ""):
                continue
            if fld not in merged:
                merged[fld], field_rows[fld] = value, r.number
            elif merged[fld] != value and r.number not in bad:
                bad[r.number] = (fld, (f"{BY_FIELD[fld].label}: differs from row "
                                       f"{field_rows[fld]} of the same order "
                                       f"({cell_text(value)!r} vs {cell_text(merged[fld])!r})"))
    if "placed_at" not in merged and not bad:
        bad[rows[0]] = ("placed_at", f"{BY_FIELD['placed_at'].label}: is required")
    if bad:
        plan.reject_rows(rows, bad)
        return
    lines = tuple(LineInput(_text(r.values, "sku"), _whole(r.values, "quantity"),
                            _text(r.values, "unit_price"), _text(r.values, "name"),
                            _text(r.values, "discount") or "0")
                  for r in group)
    shipping = _text(merged, "shipping_fee") or "0"
    total = _text(merged, "total") or None
    if total is None:  # no total given: nothing to check against, so take the lines' sum
        total = str(sum((Decimal(ln.unit_price) * ln.quantity - Decimal(ln.discount)
                         for ln in lines), Decimal(shipping)))
    raw = {"file": file_name, "rows": [
        {"row": n, "cells": {names[i]: _jsonable(c) for i, c in enumerate(plan.raw_rows[n])
                             if i < len(names)}} for n in rows]}
    command = PlaceOrder(
        channel=_text(merged, "channel"), shop_id=_text(merged, "shop_id"),
        external_id=_text(merged, "external_id"), placed_at=_time(merged, "placed_at"),
        currency=_text(merged, "currency") or "CNY",
        customer_name=_text(merged, "customer_name"), customer_phone=_text(merged, "phone"),
        address={"country": _text(merged, "country") or "CN",
                 **{k: _text(merged, k) for k in ("province", "city", "district", "line1",
                                                  "postal_code")}},
        lines=lines, total=total, shipping_fee=shipping,
        tags=tuple(t.strip() for t in _TAG_SPLIT.split(_text(merged, "tags")) if t.strip()),
        raw_payload=raw, raw_source=source, raw_version=RAW_VERSION)
    draft = OrderDraft(command, rows, field_rows)
    try:
        build_order(command, now)
    except InvalidInput as error:
        plan.reject(draft, error)
        return
    plan.orders.append(draft)


def _text(values: Mapping[str, Parsed], fld: str) -> str:
    """A text or money column's value; "" when the order leaves it out."""
    value = values.get(fld)
    return value if isinstance(value, str) else ""


def _whole(values: Mapping[str, Parsed], fld: str) -> int:
    value = values[fld]
    if not isinstance(value, int):  # a required column: a row without it was rejected
        raise TypeError(f"{fld} is not a whole number")
    return value


def _time(values: Mapping[str, Parsed], fld: str) -> datetime:
    value = values[fld]
    if not isinstance(value, datetime):  # checked as required before an order is built
        raise TypeError(f"{fld} is not a time")
    return value


def _blame(draft: OrderDraft, error_field: str | None) -> tuple[int, str | None]:
    """Which row and column an error about the order (a build_order field path) points at."""
    path = error_field or ""
    line = re.match(r"lines\[(\d+)\]\.(\w+)", path)
    if line:
        return draft.rows[int(line.group(1))], line.group(2)
    fld = {"customer.phone": "phone", "customer.name": "customer_name",
           "lines": "sku"}.get(path, path.removeprefix("shipping_address.").split("[")[0])
    if fld not in BY_FIELD:
        return draft.rows[0], None
    return draft.field_rows.get(fld, draft.rows[0]), fld


def _jsonable(value: object) -> str | int | float | bool | None:
    """A cell as JSON for the raw payload; times and other oddities keep their text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
