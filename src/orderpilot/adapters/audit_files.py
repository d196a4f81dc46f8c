"""A walkthrough run as files (services/walkthrough.py ``AuditFiles``): a standalone HTML page
(inline CSS and an inline SVG chart, nothing fetched; Chinese and English side by side), the
JSON document, and an Excel workbook (summary, per-node lag, findings, orders) whose every
text is neutralised against formulas (adapters/cell_safety.py)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from orderpilot.adapters.cell_safety import sheet_safe_row
from orderpilot.domain.walkthrough import FIELDS, SYSTEMS
from orderpilot.services.walkthrough import AuditRun, as_dict

STEM = "walkthrough"


def _names(table: Mapping[str, tuple[str, str]], code: str) -> str:
    zh, en = table.get(code, (code, code))
    return f"{zh} / {en}"


def _sheet(book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
           widths: Sequence[int]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(sheet_safe_row(header))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.cell(row=1, column=i).font = Font(bold=True)
    for row in rows:
        sheet.append(sheet_safe_row(row))
    sheet.freeze_panes = "A2"


def workbook_bytes(run: AuditRun) -> bytes:
    result, summary = run.result, run.summary
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)
    book.remove(first)
    _sheet(book, "Summary 概要", ("项目 Item", "值 Value"), [
        ("结论 Summary", f"{summary['zh']} / {summary['en']}"),
        ("编号 Run", run.id), ("种子 Seed", str(run.seed)), ("抽样 Sample", run.sample_size),
        ("订单 Orders", run.orders), ("一致 Consistent", summary["consistent"]),
        ("超时节点 Late nodes", summary["late_nodes"]),
        ("延迟目标（秒）Lag target (s)", summary["lag_target_seconds"]),
        ("执行人 Run by", run.run_by), ("时间 Run at (UTC)", run.run_at.isoformat())],
        (28, 60))
    _sheet(book, "Nodes 节点", ("节点 Node", "次数 Count", "p50 (s)", "p99 (s)",
                                "超时 Late"),
           [(f"{n['zh']} / {n['en']}", n["count"], n["p50_seconds"], n["p99_seconds"],
             n["late"]) for n in summary["nodes"]], (28, 10, 10, 10, 10))
    findings = [f for o in result["orders"] for f in o["findings"]]
    _sheet(book, "Findings 发现", (
        "订单号 Order", "中台编号 Hub id", "系统 System", "节点 Node", "字段 Field",
        "中台值 Hub", "系统值 System", "来源 Origin", "说明（中文）", "Finding (English)"),
        [(f["external_id"], f["order_id"], _names(SYSTEMS, f["system"]), f["node"],
          _names(FIELDS, f["field"]), f["hub_value"], f["system_value"], f["origin"],
          f["zh"], f["en"]) for f in findings], (18, 38, 22, 16, 16, 24, 24, 8, 50, 60))
    _sheet(book, "Orders 订单", ("订单号 Order", "中台编号 Hub id", "渠道 Channel",
                                 "状态 Status", "一致 Consistent", "准时 On time",
                                 "发现 Findings"),
           [(o["external_id"], o["order_id"], o["channel"], o["status"],
             "是 yes" if o["consistent"] else "否 no", "是 yes" if o["on_time"] else "否 no",
             len(o["findings"])) for o in result["orders"]], (18, 38, 12, 16, 12, 12, 10))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_CSS = """
body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:16px;
color:#1f2933}h1{font-size:20px}h2{font-size:16px;margin-top:24px}
.box{overflow-x:auto}table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}.bad{color:#b42318}.ok{color:#067647}.muted{color:#667085}
"""


def _chart(nodes: Sequence[Mapping[str, Any]], target: float) -> str:
    """Bars of p99 lag per node with the target drawn as a line, as inline SVG."""
    if not nodes:
        return ""
    width, bar, gap, height = 640, 18, 8, (18 + 8) * len(nodes) + 30
    top = max([float(n["p99_seconds"]) for n in nodes] + [target]) or 1.0
    scale = (width - 220) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="p99 lag per node">']
    for i, n in enumerate(nodes):
        y = 10 + i * (bar + gap)
        w = max(1.0, float(n["p99_seconds"]) * scale)
        colour = "#d92d20" if float(n["p99_seconds"]) > target else "#2e90fa"
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">'
                     f'{html.escape(str(n["zh"]))} {html.escape(str(n["en"]))}</text>'
                     f'<rect x="200" y="{y}" width="{w:.1f}" height="{bar}" fill="{colour}"/>'
                     f'<text x="{204 + w:.1f}" y="{y + 13}" font-size="11">'
                     f'{float(n["p99_seconds"]):g} s</text>')
    x = 200 + target * scale
    parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 14}" stroke="#101828" '
                 f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{height - 2}" '
                 f'font-size="11">{target:g} s 目标 target</text></svg>')
    return "".join(parts)


def render_html(run: AuditRun) -> str:
    e = html.escape
    result, summary = run.result, run.summary
    rows_nodes = "".join(
        f"<tr><td>{e(n['zh'])} / {e(n['en'])}</td><td>{n['count']}</td>"
        f"<td>{n['p50_seconds']:g}</td><td>{n['p99_seconds']:g}</td>"
        f"<td class=\"{'bad' if n['late'] else ''}\">{n['late']}</td></tr>"
        for n in summary["nodes"])
    rows_findings = "".join(
        f"<tr><td>{e(o['external_id'])}</td><td>{e(_names(SYSTEMS, f['system']))}</td>"
        f"<td>{e(_names(FIELDS, f['field']))}</td><td>{e(f['hub_value'])}</td>"
        f"<td>{e(f['system_value'])}</td><td>{e(f['zh'])}<br><span class=\"muted\">"
        f"{e(f['en'])}</span></td></tr>"
        for o in result["orders"] for f in o["findings"])
    rows_orders = "".join(
        f"<tr><td>{e(o['external_id'])}</td><td>{e(o['channel'])}</td><td>{e(o['status'])}"
        f"</td><td class=\"{'ok' if o['consistent'] else 'bad'}\">"
        f"{'一致 consistent' if o['consistent'] else '不一致 inconsistent'}</td>"
        f"<td>{len(o['nodes'])}</td><td>{len(o['findings'])}</td></tr>"
        for o in result["orders"])
    notes = "".join(f"<li>{e(n.get('order_id', ''))}: {e(n['zh'])} / {e(n['en'])}</li>"
                    for n in result.get("notes", []))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>穿行测试 Walkthrough audit {e(run.id)}</title><style>{_CSS}</style></head><body>
<h1>穿行测试 Walkthrough audit</h1>
<p><strong>{e(summary['zh'])}</strong><br>{e(summary['en'])}</p>
<p class="muted">编号 Run {e(run.id)} · 种子 seed {run.seed} · 抽样 sample {run.sample_size}
 · 执行人 run by {e(run.run_by)} · {e(run.run_at.isoformat())} (UTC)</p>
<h2>各节点延迟 Lag per node (p99; 目标 target {summary['lag_target_seconds']:g} s)</h2>
<div class="box">{_chart(summary['nodes'], float(summary['lag_target_seconds']))}</div>
<div class="box"><table><tr><th>节点 Node</th><th>次数 Count</th><th>p50 (s)</th>
<th>p99 (s)</th><th>超时 Late</th></tr>{rows_nodes}</table></div>
<h2>发现 Findings</h2>
<div class="box"><table><tr><th>订单号 Order</th><th>系统 System</th><th>字段 Field</th>
<th>中台值 Hub</th><th>系统值 System</th><th>说明 Finding</th></tr>{rows_findings}</table>
</div>
<h2>订单 Orders</h2>
<div class="box"><table><tr><th>订单号 Order</th><th>渠道 Channel</th><th>状态 Status</th>
<th>结论 Result</th><th>节点 Nodes</th><th>发现 Findings</th></tr>{rows_orders}</table></div>
{f'<h2>备注 Notes</h2><ul>{notes}</ul>' if notes else ''}
</body></html>
"""


def json_text(run: AuditRun) -> str:
    return json.dumps(as_dict(run), ensure_ascii=False, indent=2, default=str)


class AuditFileWriter:
    def write(self, run: AuditRun, directory: Path) -> dict[str, str]:
        directory.mkdir(parents=True, exist_ok=True)
        paths = {"html": directory / f"{STEM}.html", "json": directory / f"{STEM}.json",
                 "xlsx": directory / f"{STEM}.xlsx"}
        paths["html"].write_text(render_html(run), encoding="utf-8")
        paths["json"].write_text(json_text(run), encoding="utf-8")
        paths["xlsx"].write_bytes(workbook_bytes(run))
        return {kind: str(path) for kind, path in paths.items()}
