"""A stock source is validated once, in the domain; the API and the console ask it."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot.domain.inventory import InventoryInputError, Source, source_problems

GOOD: dict[str, Any] = {"code": "NB", "kind": "bonded_spot", "name_zh": "宁波", "name_en": "Ningbo",
                        "region": "", "lead_time_days": 2, "reservation_ttl_hours": 24,
                        "lead_times": {"上海": 1}, "sync_schedule": "manual",
                        "safety_stock": 0, "low_threshold": 0}


def test_a_good_source_has_no_problems() -> None:
    assert source_problems(GOOD) == []
    assert Source(**GOOD).code == "NB"


def test_every_problem_is_named_at_its_field_with_its_rule() -> None:
    bad = {**GOOD, "code": "a b", "kind": "moon", "name_en": "", "region": "x" * 101,
           "lead_time_days": -1, "reservation_ttl_hours": 0, "sync_schedule": "hourly",
           "lead_times": {f"r{i}": 1 for i in range(51)}}
    found = {(p.field, p.rule, p.low, p.high) for p in source_problems(bad)}
    assert found == {("code", "code", 0, 0), ("kind", "choice", 0, 0),
                     ("name_en", "name", 1, 100), ("region", "text", 0, 100),
                     ("lead_time_days", "whole", 0, 10**9),
                     ("reservation_ttl_hours", "whole", 1, 720),
                     ("sync_schedule", "schedule", 0, 0), ("lead_times", "too_many", 0, 50)}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"kind": "moon"}, "kind", "kind must be one of bonded_spot, domestic_transfer, in_transit"),
    ({"reservation_ttl_hours": 721}, "reservation_ttl_hours",
     "reservation_ttl_hours must be 1-720"),
    ({"safety_stock": True}, "safety_stock", "safety_stock must be a whole number from 0"),
    ({"lead_times": {"上海": -1}}, "lead_times.上海",
     "lead_times.上海 must be a whole number from 0"),
])
def test_the_dataclass_refuses_with_the_first_problem(change: dict[str, Any], field: str,
                                                      message: str) -> None:
    with pytest.raises(InventoryInputError) as refused:
        Source(**{**GOOD, **change})
    assert (refused.value.field, str(refused.value)) == (field, message)
