"""Routing decisions, the policy check and the pickup slot, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderpilot.domain.return_routing import (
    LastShipment,
    ReturnCentre,
    ReturnPolicyInvalid,
    RouteDecision,
    decide,
    pickup_start,
    policy_rows,
    window_text,
)

YIWU = ReturnCentre("YIWU", "义乌退货中心", "Yiwu", {"country": "CN", "province": "浙江省",
                                                 "city": "金华市", "district": "义乌市",
                                                 "line1": "稠江街道88号", "postal_code": ""},
                    "0579")
SHIPPED = LastShipment("sf", "SF1", "SF-0278")


def reason(decision: RouteDecision) -> str | None:
    return decision.exception.reason if decision.exception else None


def test_the_first_missing_link_is_the_reason() -> None:
    assert reason(decide(None, None, 1, None, None)) == "no_shipment"
    assert reason(decide(SHIPPED, None, 1, None, None)) == "no_outlet"
    no_row = decide(SHIPPED, "SF-0278", 1, None, None).exception
    assert no_row is not None and no_row.reason == "no_policy_row"
    assert "SF-0278" in no_row.message_zh and "SF-0278" in no_row.message_en
    gone = decide(SHIPPED, "SF-0278", 1, "HZ", None).exception
    assert gone is not None and gone.reason == "unknown_centre" and "HZ" in gone.message_en
    routed = decide(SHIPPED, "SF-0278", 2, "YIWU", YIWU)
    assert routed.exception is None and routed.centre == YIWU and routed.policy_version == 2


def test_the_policy_is_checked_whole() -> None:
    with pytest.raises(ReturnPolicyInvalid) as caught:
        policy_rows([{"outlet_code": "A", "return_centre": "YIWU"},
                     {"outlet_code": " ", "return_centre": "YIWU"},
                     {"outlet_code": "A", "return_centre": "NOPE"}, "x"], {"YIWU"})
    assert [p.field for p in caught.value.problems] == [
        "rows[1].outlet_code", "rows[2].outlet_code", "rows[2].return_centre", "rows[3]"]
    assert caught.value.zh is not None and caught.value.zh.startswith("退货政策")
    assert policy_rows([{"outlet_code": "A", "return_centre": "YIWU"}], {"YIWU"})[0].outlet_code \
        == "A"


@pytest.mark.parametrize(("now_utc", "expected_local"), [
    ("2026-12-02T00:10:00", "2026-12-02 11:00"),  # 08:10 Beijing -> 11:00
    ("2026-12-02T05:00:00", "2026-12-02 15:00"),  # 13:00 -> 15:00 (on the hour)
    ("2026-12-02T07:30:00", "2026-12-03 09:00"),  # 15:30 -> 18:00 is too late: tomorrow
    ("2026-12-01T20:00:00", "2026-12-02 09:00"),  # 04:00 -> 06:00 is too early: 09:00
])
def test_the_pickup_starts_on_the_hour_within_working_hours(now_utc: str,
                                                            expected_local: str) -> None:
    start = pickup_start(datetime.fromisoformat(now_utc).replace(tzinfo=UTC))
    assert start.strftime("%Y-%m-%d %H:%M") == expected_local
    assert window_text(start, start.replace(hour=start.hour + 2)).endswith(
        f"{start.hour:02d}:00-{start.hour + 2:02d}:00")
