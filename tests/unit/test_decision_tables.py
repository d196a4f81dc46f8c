"""Decision tables: staff cell text, validation messages, JDM in and out, zen evaluation."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from orderpilot.adapters.decision_tables import TableEngine, ZenExpressionChecker
from orderpilot.domain.decision_formats import from_jdm, sheet_header, table_from_sheet, to_jdm
from orderpilot.domain.decision_tables import (
    Column,
    DecisionTable,
    condition,
    example_return_centres,
    staff_text,
    validate,
    value,
)
from orderpilot.domain.errors import InvalidInput

CHECKER = ZenExpressionChecker()


def outlet(code: Any) -> dict[str, Any]:
    return {"event": {"data": {"outlet_code": code}}}


def evaluate(table: DecisionTable, context: dict[str, Any], *, trace: bool = True) -> Any:
    validate(table, CHECKER)
    return TableEngine().evaluate(table.name, 1, {"jdm": to_jdm(table)}, context, trace=trace)


@pytest.mark.parametrize(("cell", "expression"), [
    ("", ""), ("-", ""), ("  - ", ""),
    ("SZ01", '"SZ01"'),
    ("SZ01, SZ02", '"SZ01", "SZ02"'),
    ("SZ01，SZ02", '"SZ01", "SZ02"'),  # a Chinese comma works too
    ("> 500", "> 500"), ("<= 3", "<= 3"), ("!= \"X\"", "!= \"X\""), ("[1..10]", "[1..10]"),
    ('"quoted"', '"quoted"'), ("'quoted'", "'quoted'"), ("not(\"a\")", "not(\"a\")"),
    ("42", "42"), ("-1.5", "-1.5"), ("true", "true"), ("1, 2", "1, 2"),
    ("浙江省", '"浙江省"'),
    ('say "hi"', "'say \"hi\"'"),
    ("=startsWith($, \"SZ\")", "startsWith($, \"SZ\")"),
])
def test_condition_cells_become_unary_expressions(cell: str, expression: str) -> None:
    assert condition(cell) == expression


@pytest.mark.parametrize(("cell", "expression"), [
    ("RC-SZ", '"RC-SZ"'), ("深圳退货中心", '"深圳退货中心"'), ("12.5", "12.5"),
    ("false", "false"), ('"kept"', '"kept"'), ("> 5", '"> 5"'), ("", ""),
    ("=order.total * 2", "order.total * 2"),
])
def test_output_cells_are_values_or_text(cell: str, expression: str) -> None:
    assert value(cell) == expression


def test_text_with_every_quote_mark_is_refused_with_its_place() -> None:
    table = replace(example_return_centres(), rows=[["SZ01", "a\"b'c`d", "x"]])
    with pytest.raises(InvalidInput) as caught:
        validate(table, CHECKER)
    assert caught.value.field == "rows[0].centre"
    assert "row 1" in caught.value.message and "quote" in caught.value.message


def test_the_example_table_finds_return_centres() -> None:
    table = example_return_centres()
    assert evaluate(table, outlet("SZ02")).output == {"centre": "RC-SZ",
                                                      "centre_name": "深圳退货中心"}
    assert evaluate(table, outlet("SH03")).matched == [3]
    fallback = evaluate(table, outlet("UNKNOWN"))
    assert fallback.output["centre"] == "RC-NB" and fallback.matched == [4]


def test_first_gives_an_empty_output_when_nothing_matches() -> None:
    table = replace(example_return_centres(), rows=[["SZ01", "RC-SZ", "深圳"]])
    result = evaluate(table, outlet("GZ01"))
    assert result.output == {} and result.matched == []


def test_collect_gives_every_matching_row_in_order() -> None:
    table = DecisionTable(
        name="order_tags", title_zh="订单标签", title_en="Order tags", hit_policy="collect",
        inputs=[Column("order.total"), Column("order.address.province", "省份")],
        outputs=[Column("tag")],
        rows=[["> 500", "", "big"], ["", "浙江省, 上海市", "nearby"], ["<= 500", "", "small"],
              ["[1000..2000]", "-", "huge"]])
    result = evaluate(table, {"order": {"total": 1200, "address": {"province": "浙江省"}}})
    assert result.output == [{"tag": "big"}, {"tag": "nearby"}, {"tag": "huge"}]
    assert result.matched == [1, 2, 4]


def test_the_fast_path_gives_the_output_without_matched_rows() -> None:
    result = evaluate(example_return_centres(), outlet("GZ01"), trace=False)
    assert result.output["centre"] == "RC-GZ"
    assert not result.traced and result.matched == []


def test_decimal_and_datetime_values_in_the_context_are_accepted() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    table = DecisionTable(name="big_orders", title_zh="", title_en="", hit_policy="first",
                          inputs=[Column("order.total")], outputs=[Column("big")],
                          rows=[["> 500", "true"], ["", "false"]])
    context = {"order": {"total": Decimal("500.01"), "placed_at": datetime.now(UTC)}}
    assert evaluate(table, context).output == {"big": True}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"name": "Return Centres"}, "name", "lower-case"),
    ({"hit_policy": "unique"}, "hit_policy", "first or collect"),
    ({"inputs": []}, "inputs", "at least one"),
    ({"outputs": []}, "outputs", "at least one"),
    ({"inputs": [Column("event..outlet")]}, "inputs[0].field", "dotted path"),
    ({"outputs": [Column("centre"), Column("centre")]}, "outputs[1].field", "twice"),
    ({"outputs": [Column("centre.code")]}, "outputs[0].field", "letters, digits"),
    ({"rows": [["SZ01", "RC"]]}, "rows[0]", "row 1 has 2 cells"),
    ({"rows": [["SZ01", "RC", "x"], ["> 5 and", "RC", "x"]]}, "rows[1].event.data.outlet_code",
     "row 2, column '承运商网点 Carrier outlet'"),
    ({"rows": [["SZ01", "=1 +", "x"]]}, "rows[0].centre", "not a valid value"),
    ({"rows": [['"SZ01', "RC", "x"]]}, "rows[0].event.data.outlet_code", "not a valid condition"),
])
def test_validation_names_the_table_row_and_column(change: dict[str, Any], field: str,
                                                   words: str) -> None:
    table = replace(example_return_centres(), **change)
    with pytest.raises(InvalidInput) as caught:
        validate(table, CHECKER)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"decision table {table.name}:")
    assert words in caught.value.message


def test_cells_zen_accepts_are_not_refused() -> None:
    rows = [["> 5, < 2", "1", "x"], ['"a", "b"', "2", "x"], ["[1..10]", "3", "x"],
            ["=startsWith($, \"SZ\")", "4", "x"], ["not(\"a\")", "=event.data.outlet_code", "x"]]
    validate(replace(example_return_centres(), rows=rows), CHECKER)


def test_jdm_round_trip_gives_the_same_grid() -> None:
    table = replace(example_return_centres(), rows=[
        *example_return_centres().rows[:3], ["=startsWith($, \"NB\")", "=1 + 1", "'x'"]])
    back = from_jdm(to_jdm(table), table.name)
    assert back.inputs == table.inputs and back.outputs == table.outputs
    assert back.hit_policy == "first"
    assert [[condition(c) for c in row[:1]] + [value(c) for c in row[1:]] for row in back.rows] \
        == [[condition(c) for c in row[:1]] + [value(c) for c in row[1:]] for row in table.rows]
    assert back.rows[0][0] == "SZ01, SZ02"  # shown as staff would write it


@pytest.mark.parametrize("kind", ["functionNode", "customNode", "decisionNode",
                                  "expressionNode", "switchNode"])
def test_jdm_with_code_or_branching_nodes_is_refused(kind: str) -> None:
    document = to_jdm(example_return_centres())
    document["nodes"].insert(1, {"id": "n", "type": kind, "name": "sneaky",
                                 "content": {"source": "export const handler = () => 1"}})
    with pytest.raises(InvalidInput) as caught:
        from_jdm(document, "return_centres")
    assert kind in caught.value.message and "'sneaky'" in caught.value.message


def test_jdm_needs_exactly_one_table_with_fields() -> None:
    document = to_jdm(example_return_centres())
    two = copy.deepcopy(document)
    two["nodes"].append({**document["nodes"][1], "id": "second"})
    with pytest.raises(InvalidInput, match="2 decision tables"):
        from_jdm(two, "x")
    no_field = copy.deepcopy(document)
    no_field["nodes"][1]["content"]["inputs"][0]["field"] = ""
    with pytest.raises(InvalidInput, match="has no field"):
        from_jdm(no_field, "x")
    with pytest.raises(InvalidInput, match="not a JDM decision"):
        from_jdm(["nodes"], "x")


def test_imported_cells_show_as_staff_would_write_them() -> None:
    assert staff_text('"SZ01", "SZ02"', is_condition=True) == "SZ01, SZ02"
    assert staff_text('"RC-SZ"', is_condition=False) == "RC-SZ"
    assert staff_text('"> 5"', is_condition=False) == "> 5"  # text in an output cell
    assert staff_text('"> 5"', is_condition=True) == '"> 5"'  # unquoted: a comparison
    assert staff_text("order.total * 2", is_condition=False) == "=order.total * 2"
    assert staff_text("$ > 5", is_condition=True) == "$ > 5"


def test_sheet_header_and_rows_come_back_as_the_same_table() -> None:
    table = example_return_centres()
    header = sheet_header(table)
    assert header[0] == "承运商网点 Carrier outlet [in:event.data.outlet_code]"
    rows = [(n, tuple(r)) for n, r in enumerate(table.rows, start=2)]
    back, numbers = table_from_sheet(header, rows, name=table.name, hit_policy="first",
                                     title_zh=table.title_zh, title_en=table.title_en,
                                     description=table.description)
    assert back == table and numbers == [2, 3, 4, 5]


def test_sheet_headers_accept_chinese_markers_and_numbers_as_cells() -> None:
    back, _ = table_from_sheet(["输入：order.total", "标签 [输出:tag]"], [(2, (500, None))],
                               name="t1", hit_policy="first")
    assert back.inputs == [Column("order.total")] and back.outputs == [Column("tag", "标签")]
    assert back.rows == [["500", ""]]
    with pytest.raises(InvalidInput, match="header column 2"):
        table_from_sheet(["[in:a]", "tag"], [], name="t1", hit_policy="first")
