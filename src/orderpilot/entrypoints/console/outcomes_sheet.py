"""The outcome KPIs as one Excel sheet: the figures of the period, per channel and per bucket
of the trend, bilingual headers, every text neutralised against formulas
(workbooks.sheet_bytes). No buyer data is in the figures: nothing to mask."""

from __future__ import annotations

from typing import Any

from orderpilot.entrypoints.console.workbooks import sheet_bytes

COLUMNS: tuple[tuple[str, int], ...] = (
    ("范围 / Scope", 26),
    ("订单 / Orders", 10),
    ("履约 P50 (小时 / h)", 14),
    ("履约 P90 (小时 / h)", 14),
    ("准时率 / On-time", 12),
    ("30天复购 / Repurchase 30d", 14),
    ("90天复购 / Repurchase 90d", 14),
    ("退货处理 P50 (小时 / h)", 14),
    ("退货处理 P90 (小时 / h)", 14),
    ("取消率 / Cancelled", 12),
    ("人工干预率 / Manual", 12),
    ("差异 ‰ / Discrepancy ‰", 14),
)
PERCENT = "0.0%"


def _row(scope: str, f: dict[str, Any]) -> list[Any]:
    return [scope, f["orders"], f["fulfilment_cycle_hours"]["p50"],
            f["fulfilment_cycle_hours"]["p90"], f["on_time_rate"], f["repurchase_rate_30d"],
            f["repurchase_rate_90d"], f["return_processing_hours"]["p50"],
            f["return_processing_hours"]["p90"], f["cancellation_rate"],
            f["manual_intervention_rate"], f["discrepancy_per_mille"]]


def _rows(data: dict[str, Any]) -> list[list[Any]]:
    rows = [_row("期间 / Period", data["kpis"])]
    rows += [_row(f"渠道 / Channel {c['channel']}", c) for c in data["by_channel"]]
    rows += [_row(f"{p['start'][:10]}", p) for p in data["trend"]]
    return rows


def sheet_bytes_for(data: dict[str, Any]) -> bytes:
    formats = {column: PERCENT for column in (5, 6, 7, 10, 11)}
    return sheet_bytes("成效", COLUMNS, _rows(data), formats, auto_filter=True)
