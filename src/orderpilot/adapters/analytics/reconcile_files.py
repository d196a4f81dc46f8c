"""The files a reconciliation can be given instead of what the integrations reported: the ERP's
receivable export, the WMS's outbound sheet and a platform's settlement CSV (.xlsx or .csv,
Chinese or English headers; docs/reconciliation.md lists every column).

A file that cannot be read, or lacks a required column, is refused whole (``InvalidInput``
naming the file and the column). A bad row (an amount that is not one, a wrong date, a
quantity that is not a whole number, a duplicate of an earlier row) becomes a ``Finding`` with
file, row and field, and is left out of the comparison: reported, never silently skipped.

Kingdee K3Cloud's receivable (应收单, form ``AR_receivable``) fields: ``FBillNo`` 单据编号,
``FDATE`` 业务日期, ``FCUSTOMERID`` 客户, ``FALLAMOUNTFOR`` 价税合计 (the bill's total, repeated
on every entry row of a list export), ``FWRITTENOFFSTATUS`` 核销状态 (A none, B partly, C fully
written off), the entry's ``FORDERNUMBER`` 销售订单号 / ``FSourceBillNo`` 源单编号,
``FMATERIALID`` 物料编码 and ``FPriceQty`` 数量 — as used by public code querying
AR_receivable through ExecuteBillQuery (see integrations/kingdee/client.py for the same
sources; not verified against Kingdee's own field list). The settlement CSV is modelled on
Shopee's "Income" and Lazada's "Transaction Overview" exports (one row per order: order
number, amount, settlement time); their exact column titles vary by market and version, so the
columns are ours and documented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orderpilot.adapters.spreadsheets import read_sheet, sheet_kind
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.reconciliation import Finding
from orderpilot.domain.reconciliation_cells import CellProblem, amount_cents, moment, quantity
from orderpilot.domain.sheet_limits import SheetLimits

LIMITS = SheetLimits(max_rows=200_000, max_columns=200)

# field -> accepted headers (compared without case and spaces). Required fields first.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "erp": {
        "bill_no": ("单据编号", "应收单号", "fbillno", "billno", "bill_no"),
        "order_ref": ("源单编号", "订单号", "销售订单号", "fordernumber", "fsourcebillno",
                      "orderno", "order_no", "orderref", "order_ref"),
        "amount": ("价税合计", "fallamountfor", "amount"),
        "day": ("业务日期", "fdate", "date", "businessdate", "business_date"),
        "sku": ("物料编码", "fmaterialid", "sku"),
        "quantity": ("数量", "fpriceqty", "qty", "quantity"),
        "status": ("核销状态", "fwrittenoffstatus", "writtenoffstatus", "written_off_status"),
        "customer": ("客户", "fcustomerid", "customer"),
        "channel": ("渠道", "平台", "channel", "platform"),
    },
    "wms": {
        "outbound_no": ("出库单号", "outboundno", "outbound_no"),
        "order_ref": ("订单号", "orderno", "order_no", "orderref", "order_ref"),
        "sku": ("sku", "物料编码", "商品编码"),
        "quantity": ("数量", "出库数量", "qty", "quantity"),
        "shipped_at": ("出库时间", "shippedat", "shipped_at", "outboundtime"),
        "channel": ("渠道", "平台", "channel", "platform"),
    },
    "storefront": {
        "order_ref": ("订单号", "orderid", "order_id", "orderno", "order_no", "order_ref"),
        "amount": ("金额", "结算金额", "amount", "settlementamount", "settlement_amount"),
        "settled_at": ("结算时间", "settledat", "settled_at", "settlementtime",
                       "settlement_time"),
        "channel": ("渠道", "平台", "channel", "platform"),
    },
}
REQUIRED = {"erp": ("bill_no", "order_ref", "amount", "day"),
            "wms": ("outbound_no", "order_ref", "sku", "quantity", "shipped_at"),
            "storefront": ("order_ref", "amount", "settled_at")}
# Kingdee's written-off status: fully written off (C) closes the receivable.
CLOSED_STATUSES = frozenset({"c", "完全核销", "closed", "fully written off"})
OPEN_STATUSES = frozenset({"", "a", "b", "空", "未核销", "部分核销", "open", "partly written off"})


@dataclass
class FileRows:
    """What one file says, row by row, once bad rows are out (each a Finding)."""

    side: str
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    read: int = 0


def _key(text: object) -> str:
    return "".join(str(text or "").split()).lower()


def _columns(side: str, header: list[Any], name: str) -> dict[str, int]:
    wanted = {alias.lower(): f for f, aliases in COLUMNS[side].items() for alias in aliases}
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        f = wanted.get(_key(title))
        if f is not None and f not in found:
            found[f] = index
    missing = [f for f in REQUIRED[side] if f not in found]
    if side == "erp" and "sku" in found and "quantity" not in found:
        missing.append("quantity")
    if missing:
        shown = ", ".join(f"{f} ({'/'.join(COLUMNS[side][f][:2])})" for f in missing)
        raise InvalidInput(f"{name}: missing column(s) {shown}", field=side,
                           code="missing_columns", params={"file": name, "columns": missing},
                           zh=f"{name}：缺少列 {shown}")
    return found


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an order number Excel stored as a number
    return str(value).strip() if value is not None else ""


_PARSERS: dict[str, Callable[[object], object]] = {
    "amount": amount_cents, "quantity": quantity, "day": moment, "shipped_at": moment,
    "settled_at": moment}
_DUPLICATE_KEY = {"erp": ("bill_no", "sku"), "wms": ("outbound_no", "sku"),
                  "storefront": ("order_ref", "channel", "amount", "settled_at")}


def read_file(side: str, path: Path, name: str | None = None) -> FileRows:
    """Read one side's file. Raises UnreadableSheet / InvalidInput for a file that cannot be
    used at all."""
    name = name or path.name
    sheet_kind(Path(name))  # refuses an .xls or another type by the name people gave it
    sheet = read_sheet(path, LIMITS, name=name)
    columns = _columns(side, list(sheet.header), name)
    result = FileRows(side, name)
    seen: dict[tuple[object, ...], int] = {}
    for number, cells in sheet.rows:
        result.read += 1
        row: dict[str, Any] = {"row": number}
        problems: list[Finding] = []
        for f, index in columns.items():
            value = cells[index] if index < len(cells) else None
            parser = _PARSERS.get(f)
            if parser is None:
                row[f] = _text(value)
                if f in REQUIRED[side] and not row[f]:
                    problems.append(Finding(name, number, f, "missing", f"{f} is empty",
                                            f"{f} 为空"))
                continue
            if value in (None, "") and f not in REQUIRED[side] and f != "quantity":
                row[f] = None
                continue
            if f == "quantity" and value in (None, "") and not row.get("sku") \
                    and side == "erp":
                row[f] = None
                continue
            try:
                row[f] = parser(value)
            except CellProblem as problem:
                problems.append(Finding(name, number, f, problem.code, problem.en, problem.zh))
        if side == "erp":
            status = _key(row.get("status"))
            if status not in CLOSED_STATUSES and status not in OPEN_STATUSES:
                problems.append(Finding(name, number, "status", "bad_status",
                                        f"unknown written-off status {row.get('status')!r} "
                                        "(A, B or C)",
                                        f"未知的核销状态 {row.get('status')!r}（应为 A、B 或 C）"))
            row["closed"] = status in CLOSED_STATUSES
        if problems:
            result.findings.extend(problems)
            continue
        key = tuple(row.get(k) for k in _DUPLICATE_KEY[side])
        if key in seen:
            result.findings.append(Finding(
                name, number, _DUPLICATE_KEY[side][0], "duplicate_row",
                f"the same as row {seen[key]}; counted once",
                f"与第 {seen[key]} 行重复；只计一次"))
            continue
        seen[key] = number
        result.rows.append(row)
    _same_bill_amounts(result)
    return result


def _same_bill_amounts(result: FileRows) -> None:
    """价税合计 is the bill's total: every entry row of a bill must repeat the same one."""
    if result.side != "erp":
        return
    first: dict[str, dict[str, Any]] = {}
    kept = []
    for row in result.rows:
        earlier = first.setdefault(row["bill_no"], row)
        if earlier is not row and earlier["amount"] != row["amount"]:
            result.findings.append(Finding(
                result.name, row["row"], "amount", "amount_differs_in_bill",
                f"bill {row['bill_no']} has another total on row {earlier['row']}",
                f"单据 {row['bill_no']} 在第 {earlier['row']} 行的价税合计不同"))
            continue
        kept.append(row)
    result.rows = kept
