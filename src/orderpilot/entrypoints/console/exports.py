"""The one-click Excel export of pending-shipment exception orders (待发货异常订单, S11).

Fixed columns with a bilingual header, rows in the query's fixed order, values that do not
depend on the viewer's language: the same data gives the same sheet every time.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from babel.support import Translations

from orderpilot.domain.lifecycle import NODE_BY_ID
from orderpilot.domain.masking import mask_name, mask_phone, mask_text
from orderpilot.domain.messages import note_text
from orderpilot.entrypoints.console.i18n import LABELS, load_translations
from orderpilot.entrypoints.console.workbooks import (
    MONEY_FORMAT,
    TIME_FORMAT,
    attachment,
    excel_time,
    sheet_bytes,
)

SHEET_TITLE = "待发货异常订单"
FILE_STEM = "pending-shipment-exceptions"

# (bilingual header, column width), in column order.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("序号 / No.", 7),
    ("渠道 / Channel", 12),
    ("店铺 / Shop", 16),
    ("平台订单号 / External order no.", 26),
    ("订单状态 / Status", 14),
    ("状态代码 / Status code", 16),
    ("下单时间(北京时间) / Placed at (UTC+8)", 21),
    ("订单金额 / Total", 13),
    ("币种 / Currency", 9),
    ("客户 / Customer", 14),
    ("电话 / Phone", 15),
    ("冻结原因 / Hold reason", 18),
    ("原因代码 / Reason code", 22),
    ("冻结备注 / Hold note", 32),
    ("冻结人 / Held by", 14),
    ("冻结时间(北京时间) / Held at (UTC+8)", 21),
    ("订单ID / Order ID", 38),
)


@cache
def _zh() -> Translations:
    return load_translations("zh_CN")


def reason_zh(code: str) -> str:
    """A hold reason's Chinese name (the sheet is the same for every reader); the code beside."""
    reasons = LABELS["reason"]
    return _zh().gettext(reasons[code]) if code in reasons else code


def sheet_rows(rows: list[dict[str, Any]], *, show_pii: bool) -> list[list[Any]]:
    """SHOW_PII: the reader has pii.read; otherwise the buyer's name and phone are masked."""
    out = []
    for n, r in enumerate(rows, start=1):
        node = NODE_BY_ID.get(r["status"])
        name, phone = r["customer"]["name"], r["customer"]["phone"]
        note = note_text(r["hold_note"], "zh_CN")
        out.append([n, r["channel"], r["shop_id"], r["external_id"],
                    node.zh if node else r["status"], r["status"], excel_time(r["placed_at"]),
                    Decimal(r["total"]), r["currency"], name if show_pii else mask_name(name),
                    phone if show_pii else mask_phone(phone), reason_zh(r["hold_reason"]),
                    r["hold_reason"],
                    note if show_pii else mask_text(note, (name, phone)),
                    r["hold_placed_by"], excel_time(r["hold_placed_at"]), r["id"]])
    return out


def workbook_bytes(rows: list[dict[str, Any]], *, show_pii: bool) -> bytes:
    return sheet_bytes(SHEET_TITLE, COLUMNS, sheet_rows(rows, show_pii=show_pii),
                       {7: TIME_FORMAT, 16: TIME_FORMAT, 8: MONEY_FORMAT}, auto_filter=True)


def content_disposition(day: date) -> str:
    return attachment(FILE_STEM, SHEET_TITLE, day)
