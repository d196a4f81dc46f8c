"""The orders list's export: the chosen orders (a selection or the whole filter) as one Excel
sheet, in list order, with a bilingual header. Text is neutralised against formulas
(adapters/cell_safety.py) and the buyer's name, phone and address are masked for a reader
without pii.read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from orderpilot.domain.lifecycle import NODE_BY_ID
from orderpilot.domain.masking import mask_as, mask_name, mask_phone
from orderpilot.entrypoints.console.workbooks import (
    MONEY_FORMAT,
    TIME_FORMAT,
    attachment,
    excel_time,
    sheet_bytes,
)

SHEET_TITLE = "订单"
FILE_STEM = "orders"
COLUMNS: tuple[tuple[str, int], ...] = (
    ("序号 / No.", 7), ("渠道 / Channel", 12), ("店铺 / Shop", 16),
    ("平台订单号 / External order no.", 26), ("订单状态 / Status", 14),
    ("下单时间(北京时间) / Placed at (UTC+8)", 21), ("订单金额 / Total", 13),
    ("币种 / Currency", 9), ("客户 / Customer", 14), ("电话 / Phone", 16),
    ("收货地址 / Address", 40), ("商品 / SKUs", 30), ("冻结原因 / Holds", 24),
    ("标签 / Tags", 20), ("订单ID / Order ID", 38),
)


def sheet_rows(rows: list[dict[str, Any]], *, show_pii: bool) -> list[list[Any]]:
    out = []
    for n, r in enumerate(rows, start=1):
        node = NODE_BY_ID.get(r["status"])
        name, phone = r["customer"]["name"], r["customer"]["phone"]
        street = r["address_line1"] if show_pii else mask_as("address", r["address_line1"])
        address = " ".join(p for p in (r["address_province"], r["address_city"],
                                       r["address_district"], street) if p)
        out.append([n, r["channel"], r["shop_id"], r["external_id"],
                    node.zh if node else r["status"], excel_time(r["placed_at"]),
                    Decimal(r["total"]), r["currency"], name if show_pii else mask_name(name),
                    phone if show_pii else mask_phone(phone), address, ", ".join(r["skus"]),
                    ", ".join(r["hold_reasons"]), ", ".join(r["tags"]), r["id"]])
    return out


def workbook_bytes(rows: list[dict[str, Any]], *, show_pii: bool) -> bytes:
    return sheet_bytes(SHEET_TITLE, COLUMNS, sheet_rows(rows, show_pii=show_pii),
                       {6: TIME_FORMAT, 7: MONEY_FORMAT}, auto_filter=False)


def content_disposition(day: date) -> str:
    return attachment(FILE_STEM, SHEET_TITLE, day)
