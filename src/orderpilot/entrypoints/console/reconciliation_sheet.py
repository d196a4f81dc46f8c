"""A reconciliation run as one Excel sheet: bilingual headers, every text neutralised against
formulas (workbooks.sheet_bytes), the same file for every reader. The rows hold order numbers,
SKUs, bills and amounts, never a buyer's name, phone or address, so there is nothing to mask."""

from __future__ import annotations

from orderpilot.domain.reconciliation import KINDS, RunSummary, StoredDiscrepancy
from orderpilot.entrypoints.console.workbooks import TIME_FORMAT, excel_time, sheet_bytes

COLUMNS: tuple[tuple[str, int], ...] = (
    ("序号 / No.", 7),
    ("差异类别 / Class", 20),
    ("类别代码 / Class code", 26),
    ("平台订单号 / Order no.", 22),
    ("SKU / 单据 / SKU or bills", 22),
    ("中台 / Hub (expected)", 14),
    ("对方 / Other side (actual)", 16),
    ("数据来源 / Source", 18),
    ("建议处理 / Suggested fix", 40),
    ("状态 / Status", 10),
    ("处理 / Action", 20),
    ("处理人 / By", 16),
    ("处理时间(北京时间) / At (UTC+8)", 21),
    ("订单ID / Order ID", 38),
)
STATUS = {"open": "待处理 open", "fixed": "已修复 fixed", "accepted": "已接受 accepted"}


def sheet_bytes_for(run: RunSummary, items: list[StoredDiscrepancy]) -> bytes:
    rows = []
    for item in items:
        d, kind = item.item, KINDS[item.item.kind]
        rows.append([item.n, f"{kind.zh} / {kind.en}", d.kind, d.order_ref, d.sku, d.expected,
                     d.actual, "接口 / integrations" if d.source == "events" else d.source,
                     f"{kind.fix_zh} / {kind.fix_en}", STATUS.get(item.status, item.status),
                     item.action or "", item.changed_by or "",
                     excel_time(item.changed_at.isoformat()) if item.changed_at else None,
                     d.order_id or ""])
    title = f"对账 {run.since:%Y%m%d}-{run.until:%Y%m%d}"
    return sheet_bytes(title, COLUMNS, rows, {13: TIME_FORMAT}, auto_filter=True)
