"""The returns metrics' pure computations: percentiles by nearest rank, address comparison,
accuracy against the policy then and now, co-returned pairs, SKU rates, the period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderpilot.domain import return_metrics as m
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import SHANGHAI

CENTRE = {"province": "浙江省", "city": "金华市", "district": "义乌市", "line1": "稠江街道88号"}


def test_nearest_rank_is_a_value_that_really_occurred() -> None:
    assert m.nearest_rank([], 0.5) is None
    assert m.nearest_rank([7.0], 0.9) == 7.0
    assert m.nearest_rank([4.0, 1.0, 3.0, 2.0], 0.5) == 2.0  # rank ceil(2.0) = 2
    assert m.nearest_rank([4.0, 1.0, 3.0, 2.0], 0.9) == 4.0  # rank ceil(3.6) = 4
    ten = [float(v) for v in range(1, 11)]
    assert (m.nearest_rank(ten, 0.5), m.nearest_rank(ten, 0.9)) == (5.0, 9.0)
    assert m.nearest_rank([10.0, 8.0, 30.0], 0.5) == 10.0


def test_processing_times_per_step_in_order() -> None:
    times = m.processing_times({"received": [8.04, 30.0, 10.0], "pickup_booked": []})
    assert [(s.step, s.count, s.p50_hours, s.p90_hours) for s in times] == [
        ("pickup_booked", 0, None, None), ("received", 3, 10.0, 30.0),
        ("refunded", 0, None, None)]


def test_addresses_compare_without_spaces_punctuation_or_full_width() -> None:
    loose = {"province": " 浙江省", "city": "金华市", "district": "义乌市",
             "line1": "稠江街道 ８８号", "postal_code": "anything"}
    assert m.normalised_address(loose) == m.normalised_address(CENTRE)
    assert m.normalised_address(CENTRE | {"district": "北仑区"}) != m.normalised_address(CENTRE)
    assert m.normalised_address(None) is None
    assert m.normalised_address(CENTRE | {"line1": " "}) is None


def _route(rid: str, centre: str | None, then: str | None, now: str | None,
           typed: dict[str, str] | None = None, reason: str | None = None) -> m.RouteFacts:
    return m.RouteFacts(rid, reason is not None, reason, "SF-1", centre, then, now, typed,
                        CENTRE if centre else None)


def test_accuracy_against_the_policy_then_flags_the_policy_now() -> None:
    routes = [
        _route("r1", "YIWU", "YIWU", "YIWU", typed=CENTRE),
        _route("r2", "NINGBO", "NINGBO", "YIWU", typed={**CENTRE, "city": "宁波市"}),
        _route("r3", "NINGBO", "YIWU", "YIWU"),
        _route("r4", None, None, None, reason="no_policy_row"),
        _route("r0", None, None, None, reason="no_outlet"),
        _route("r5", None, None, None, reason="no_outlet")]
    a = m.address_accuracy(routes)
    assert (a.routes, a.routed, a.matching_policy, a.rate) == (6, 3, 2, 0.6667)
    assert a.by_reason == {"no_outlet": 2, "no_policy_row": 1}
    assert (a.typed_known, a.typed_right, a.typed_rate) == (2, 1, 0.5)
    assert [c["return_id"] for c in a.policy_changed] == ["r2", "r3"]
    assert m.address_accuracy([]).rate is None


def test_co_returned_pairs_count_each_order_once() -> None:
    pairs = m.co_returned_pairs([["A", "B", "A"], ["C", "A"], ["B", "C", "A"], ["D"]])
    assert pairs == [("A", "B", 2), ("A", "C", 2), ("B", "C", 1)]
    assert m.co_returned_pairs([["A", "B"], ["A", "C"]], top=1) == [("A", "B", 1)]


def test_sku_rates_highest_first_unshipped_last() -> None:
    rates = m.sku_rates({"A": 5, "B": 2, "C": 2, "Z": 1}, {"A": 7, "B": 6, "C": 4})
    assert [(r.sku, r.rate) for r in rates] == [("A", 0.7143), ("C", 0.5), ("B", 0.3333),
                                               ("Z", None)]


def test_period_defaults_to_thirty_days_and_takes_whole_days() -> None:
    now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    since, until = m.period_bounds(None, None, now)
    assert (until - since).days == 30 and until == now
    since, until = m.period_bounds("2026-11-01", "2026-11-30", now)
    assert since == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert until == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert m.period_bounds("2026-11-01T08:00:00", None, now)[0] == datetime(
        2026, 11, 1, 8, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("since", "until", "field"), [
    ("soon", None, "since"), (None, "2026-02-30", "until"),
    ("2026-11-02", "2026-11-01", "since"), ("2025-01-01", "2026-11-01", "since")])
def test_a_bad_period_names_its_field(since: str | None, until: str | None,
                                      field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        m.period_bounds(since, until, datetime(2026, 12, 2, tzinfo=UTC))
    assert raised.value.field == field
