"""The returns metrics as one Excel sheet: bilingual headers and names, every text neutralised
against formulas (workbooks.sheet_bytes). The metrics hold SKUs, reason tags, outlet and centre
codes and return ids, never a buyer's name, phone or address: nothing to mask."""

from __future__ import annotations

from typing import Any

from orderpilot.entrypoints.console.workbooks import sheet_bytes

COLUMNS: tuple[tuple[str, int], ...] = (
    ("指标 / Metric", 26),
    ("项目 / Item", 34),
    ("数量 / Count", 12),
    ("总数 / Of", 12),
    ("比率 / Rate", 10),
    ("P50 (小时 / h)", 12),
    ("P90 (小时 / h)", 12),
)
PERCENT = "0.0%"


def _rows(data: dict[str, Any]) -> list[list[Any]]:
    a = data["address_accuracy"]
    typed = a["typed_address_baseline"]
    rows: list[list[Any]] = [
        ["地址准确率 / Address accuracy", "按当时政策路由 / Routed as the policy said",
         a["matching_policy"], a["routed"], a["rate"], None, None],
        ["地址准确率 / Address accuracy", "买家填写地址已正确 / Typed address already right",
         typed["already_right"], typed["compared"], typed["rate"], None, None],
        ["地址准确率 / Address accuracy", "需人工决定 / Needed a decision",
         a["decision_required"], a["routes"], None, None, None]]
    rows += [["需人工决定 / Needed a decision", f"{d['zh']} / {d['en']}", d["count"], None,
              None, None, None] for d in a["decision_required_by_reason"]]
    rows += [["现行政策不同 / Current policy differs",
              f"{c['return_id']} {c['outlet_code'] or ''}: {c['return_centre'] or ''} → "
              f"{c['current_centre'] or '-'}", None, None, None, None, None]
             for c in a["current_policy_differs"]]
    rows += [["处理时长 / Processing time", f"{s['zh']} / {s['en']}", s["count"], None, None,
              s["p50"], s["p90"]] for s in data["processing_hours"]]
    rows += [["退货原因 / Reason", f"{r['zh']} / {r['en']}", r["returns"], data["returns"],
              r["share"], None, None] for r in data["by_reason"]]
    rows += [["SKU 退货率 / Return rate by SKU", s["sku"], s["returned_units"],
              s["shipped_units"], s["rate"], None, None] for s in data["by_sku"]]
    rows += [["同单退货组合 / Co-returned pair", " + ".join(p["skus"]), p["orders"], None, None,
              None, None] for p in data["co_returned_pairs"]]
    return rows


def sheet_bytes_for(data: dict[str, Any]) -> bytes:
    return sheet_bytes("退货指标", COLUMNS, _rows(data), {5: PERCENT}, auto_filter=True)
