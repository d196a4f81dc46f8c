"""The forms a decision table travels in: JDM documents (GoRules) and spreadsheet grids.

JDM: a table becomes inputNode -> decisionTableNode -> outputNode. Only documents of that
shape are imported; function, custom, expression, switch and sub-decision nodes are refused,
since they run code or logic the grid cannot show.

Sheets: one header row, one column per table column, written ``label [in:field]`` or
``label [out:field]`` (``in:field`` alone will do; 输入/输出 are accepted for in/out).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from orderpilot.domain.decision_tables import (
    HIT_POLICIES,
    Column,
    DecisionTable,
    condition,
    staff_text,
    value,
)
from orderpilot.domain.errors import InvalidInput

CONTENT_TYPE = "application/vnd.gorules.decision"
REFUSED_NODES = {
    "functionNode": "a function node runs JavaScript",
    "customNode": "a custom node runs code outside the table",
    "decisionNode": "a sub-decision node calls another decision",
    "expressionNode": "an expression node computes values outside the table",
    "switchNode": "a switch node branches outside the table",
}
_HEADER = re.compile(r"^(?P<label>.*?)\s*\[?\s*(?P<kind>in|out|输入|输出)\s*[:：]\s*"
                     r"(?P<field>[A-Za-z0-9_.]+)\s*\]?\s*$", re.IGNORECASE)


def to_jdm(table: DecisionTable) -> dict[str, Any]:
    """The JDM document zen evaluates; raises CellError for a cell that cannot be quoted."""
    inputs = [{"id": f"in{i}", "name": c.shown, "field": c.field}
              for i, c in enumerate(table.inputs, start=1)]
    outputs = [{"id": f"out{i}", "name": c.shown, "field": c.field}
               for i, c in enumerate(table.outputs, start=1)]
    width = len(inputs)
    rules = []
    for n, row in enumerate(table.rows, start=1):
        rule = {"_id": f"row{n}"}
        rule.update((col["id"], condition(cell)) for col, cell in zip(inputs, row[:width],
                                                                       strict=True))
        rule.update((col["id"], value(cell)) for col, cell in zip(outputs, row[width:],
                                                                   strict=True))
        rules.append(rule)
    return {
        "contentType": CONTENT_TYPE,
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "request",
             "position": {"x": 0, "y": 0}},
            {"id": "table", "type": "decisionTableNode", "name": table.name,
             "position": {"x": 300, "y": 0},
             "content": {"hitPolicy": table.hit_policy, "inputs": inputs, "outputs": outputs,
                         "rules": rules}},
            {"id": "response", "type": "outputNode", "name": "response",
             "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "request-table", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "table-response", "sourceId": "table", "targetId": "response",
             "type": "edge"},
        ],
    }


def _refuse(message: str, where: str = "file") -> InvalidInput:
    return InvalidInput(f"JDM import: {message}", field=where, code="unsupported_decision",
                        zh=f"JDM 导入：{message}")


def from_jdm(document: Any, name: str) -> DecisionTable:
    """The grid held in a JDM document of one decision table between input and output."""
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        raise _refuse("not a JDM decision (no list of nodes)")
    tables = []
    for node in document["nodes"]:
        kind = node.get("type") if isinstance(node, dict) else None
        label = node.get("name", "") if isinstance(node, dict) else ""
        if kind in REFUSED_NODES:
            raise _refuse(f"node {label!r} is a {kind}: {REFUSED_NODES[kind]}; only one "
                          "decision table between input and output can be imported")
        if kind == "decisionTableNode":
            tables.append(node)
        elif kind not in ("inputNode", "outputNode"):
            raise _refuse(f"node {label!r} has an unsupported type {kind!r}")
    if len(tables) != 1:
        raise _refuse(f"the decision has {len(tables)} decision tables; exactly one is needed")
    node = tables[0]
    content = node.get("content")
    if not isinstance(content, dict):
        raise _refuse(f"table {node.get('name', '')!r} has no content")
    if content.get("hitPolicy", "first") not in HIT_POLICIES:
        raise _refuse(f"hit policy {content.get('hitPolicy')!r}; use first or collect")
    if content.get("inputField") or content.get("outputPath") \
            or content.get("executionMode", "single") != "single":
        raise _refuse("tables that loop over a list or write under a path are not supported")
    inputs = _columns(content.get("inputs"), "inputs")
    outputs = _columns(content.get("outputs"), "outputs")
    rows = []
    for rule in content.get("rules") or []:
        if not isinstance(rule, dict):
            raise _refuse("a rule is not an object")
        rows.append([staff_text(str(rule.get(cid) or ""), is_condition=True)
                     for cid, _ in inputs]
                    + [staff_text(str(rule.get(cid) or ""), is_condition=False)
                       for cid, _ in outputs])
    title = str(node.get("name") or "")[:200]
    return DecisionTable(name=name, title_zh="", title_en=title,
                         hit_policy=str(content.get("hitPolicy", "first")),
                         inputs=[c for _, c in inputs], outputs=[c for _, c in outputs],
                         rows=rows)


def _columns(raw: Any, key: str) -> list[tuple[str, Column]]:
    if not isinstance(raw, list):
        raise _refuse(f"the table has no {key}")
    out = []
    for col in raw:
        if not isinstance(col, dict) or not col.get("id"):
            raise _refuse(f"a column in {key} has no id")
        field = col.get("field")
        if not field:
            raise _refuse(f"column {col.get('name', col['id'])!r} in {key} has no field; "
                          "give every column a field")
        name = str(col.get("name") or "")
        out.append((str(col["id"]), Column(str(field), "" if name == field else name)))
    return out


def sheet_header(table: DecisionTable) -> list[str]:
    def cell(column: Column, kind: str) -> str:
        tag = f"[{kind}:{column.field}]"
        return f"{column.label} {tag}" if column.label else tag

    return [*(cell(c, "in") for c in table.inputs), *(cell(c, "out") for c in table.outputs)]


def sheet_text(raw: Any) -> str:
    """A spreadsheet cell as the text staff see."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime | date):
        return raw.isoformat()
    return str(raw).strip()


def table_from_sheet(header: Sequence[Any], rows: Sequence[tuple[int, Sequence[Any]]], *,
                     name: str, hit_policy: str, title_zh: str = "", title_en: str = "",
                     description: str = "") -> tuple[DecisionTable, list[int]]:
    """The table in a sheet, and the sheet row number of each table row (for messages)."""
    inputs: list[tuple[int, Column]] = []
    outputs: list[tuple[int, Column]] = []
    for i, raw in enumerate(header):
        text = sheet_text(raw)
        if not text:
            continue
        match = _HEADER.match(text)
        if match is None:
            raise InvalidInput(f"header column {i + 1} ({text!r}) must say which table column "
                               "it is, like '退货中心 [out:centre]' or '[in:order.channel]'",
                               field="header", code="invalid_decision_table",
                               zh=f"表头第 {i + 1} 列（{text!r}）需要写明对应的表格列，"
                                  "如 '退货中心 [out:centre]' 或 '[in:order.channel]'")
        is_input = match["kind"].lower() in ("in", "输入")
        (inputs if is_input else outputs).append((i, Column(match["field"], match["label"])))
    positions = [i for i, _ in inputs] + [i for i, _ in outputs]
    grid = [[sheet_text(cells[i]) if i < len(cells) else "" for i in positions]
            for _, cells in rows]
    table = DecisionTable(name=name, title_zh=title_zh, title_en=title_en,
                          hit_policy=hit_policy, inputs=[c for _, c in inputs],
                          outputs=[c for _, c in outputs], rows=grid, description=description)
    return table, [n for n, _ in rows]
