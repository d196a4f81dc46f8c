"""The lifecycle board's terms (domain/flow.py) and findings (domain/flow_findings.py): periods
as Beijing days or offset times, grades against targets, and the sentences in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.flow import (
    SourceReports,
    Transition,
    grade,
    parse_edge,
    parse_filter,
)
from orderpilot.domain.flow_findings import duration, findings


def test_a_date_is_a_beijing_day_and_a_time_needs_its_offset() -> None:
    f = parse_filter(since="2026-11-26", until="2026-11-26", channel=" shopee ", sku="")
    assert f.since == datetime(2026, 11, 25, 16, tzinfo=UTC)
    assert f.until == datetime(2026, 11, 26, 16, tzinfo=UTC)
    assert (f.channel, f.shop_id, f.sku) == ("shopee", None, None)
    assert parse_filter(since="2026-11-26T10:00:00+08:00").since == datetime(
        2026, 11, 26, 2, tzinfo=UTC)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"since": "yesterday"}, "since"), ({"until": "2026-02-30"}, "until"),
    ({"since": "2026-11-26T10:00:00"}, "since"), ({"channel": "x" * 201}, "channel"),
    ({"since": "2026-11-26", "until": "2026-11-25"}, "until"),
])
def test_bad_filters_name_their_field_in_both_languages(kwargs: dict[str, str],
                                                         field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_filter(**kwargs)
    assert refused.value.field == field and refused.value.zh


def test_an_edge_needs_both_ends() -> None:
    assert parse_edge(" paid", "erp_booked ") == ("paid", "erp_booked")
    for given, field in (((None, "paid"), "from"), (("paid", ""), "to")):
        with pytest.raises(InvalidInput) as refused:
            parse_edge(*given)
        assert refused.value.field == field


def test_grades_against_the_target() -> None:
    assert [grade(p90, 900) for p90 in (900, 901, 1350, 1351)] == [
        "on_target", "slipping", "slipping", "over_target"]
    assert grade(10, None) == "no_target"


def test_durations_as_people_say_them() -> None:
    assert [duration(s) for s in (45, 720, 5400, 12600, 200000)] == [
        ("45 秒", "45 s"), ("12 分钟", "12 min"), ("1.5 小时", "1.5 h"), ("3.5 小时", "3.5 h"),
        ("2.3 天", "2.3 days")]


def edge(a: str, b: str, p90: float, mean: float, count: int = 10) -> Transition:
    return Transition(a, b, count, mean, p90, p90, mean)


def test_findings_name_the_edge_furthest_past_its_target_and_the_worst_source() -> None:
    edges = [edge("paid", "erp_booked", 1500, 1200, 40),  # 1.67 x its 15 min target
             edge("packed", "shipped", 4 * 3600 * 1.2, 3 * 3600),  # 1.2 x
             edge("picked", "packed", 10, 10)]  # no target
    sources = [SourceReports("kingdee", "erp", 40, 60, 600, 3, 2, 0),
               SourceReports("sf", "carrier", 10, 30, 1800, 0, 0, 4),
               SourceReports("wms", "wms", 10, 5, 10, 0, 0, 0)]
    found = {f.code: (f.zh, f.en) for f in findings(50, edges, sources)}
    assert found["average_time.paid.erp_booked"] == (
        "ERP 平均在付款后 20 分钟入账", "ERP books orders on average 20 min after payment")
    assert found["over_target.paid.erp_booked"] == (
        "最慢环节：已支付 → ERP已入账，p90 为 25 分钟，超出目标 15 分钟（40 单）",
        "Slowest against its target: Paid → Booked in ERP, p90 25 min against a 15 min "
        "target (40 orders)")
    assert found["slowest_source.sf"] == (
        "回报最慢的是承运商（顺丰速运）：p99 延迟 30 分钟，中位 30 秒",
        "The carrier (SF Express) reports slowest: lag p99 30 min, median 30 s")
    assert [c for c in found if c.startswith("report_problems")] == [
        "report_problems.kingdee", "report_problems.sf"]
    assert "all_on_target" not in found
    assert [f.code for f in findings(0, [], [])] == ["no_orders"]
