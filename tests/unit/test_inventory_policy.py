"""The selection function and the delivery promise, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from orderpilot.domain.inventory import (
    InventoryInputError,
    Source,
    Stock,
    Strategy,
    plan,
    promise,
)

NB = Source("NB", "bonded_spot", "宁波仓", "Ningbo", "浙江省", 1)
HZ = Source("HZ", "domestic_transfer", "杭州仓", "Hangzhou", "浙江省", 2)
LA = Source("LA", "in_transit", "洛杉矶仓", "Los Angeles", "US", 20)
SOURCES = [LA, HZ, NB]
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def stock(**on_hand: int) -> dict[tuple[str, str], Stock]:
    return {(code, "SKU1"): Stock(code, "SKU1", qty, 0, 0,
                                  date(2026, 12, 20) if code == "LA" else None)
            for code, qty in on_hand.items()}


def test_bonded_spot_is_taken_before_a_transfer() -> None:
    chosen = plan([(1, "SKU1", 2)], stock(NB=5, HZ=5), SOURCES, Strategy("shopee"), None)
    assert [(p.source, p.quantity) for p in chosen.picks] == [("NB", 2)]


def test_without_split_one_source_must_serve_the_whole_line() -> None:
    chosen = plan([(1, "SKU1", 6)], stock(NB=4, HZ=4), SOURCES, Strategy("shopee"), None)
    assert not chosen.complete and chosen.short == {"SKU1": 6}


def test_with_split_a_line_spans_sources_in_tier_order() -> None:
    chosen = plan([(1, "SKU1", 6)], stock(NB=4, HZ=4), SOURCES,
                  Strategy("shopee", allow_split=True), None)
    assert [(p.source, p.quantity) for p in chosen.picks] == [("NB", 4), ("HZ", 2)]


def test_in_transit_is_never_planned_even_with_plenty() -> None:
    chosen = plan([(1, "SKU1", 1)], stock(LA=100), SOURCES, Strategy("shopee"), None)
    assert not chosen.complete


def test_the_promise_names_the_source_and_the_shanghai_date() -> None:
    answer = promise("SKU1", 1, stock(NB=1, HZ=1), SOURCES, Strategy("shopee"), None, NOW)
    assert (answer.sellable, answer.source, answer.date) == (True, "NB", date(2026, 11, 27))
    assert answer.zh == "宁波仓有货,预计明日达"
    answer = promise("SKU1", 2, stock(NB=1, HZ=3), SOURCES, Strategy("shopee"), None, NOW)
    assert answer.zh == "杭州仓调拨中,预计后日达" and answer.source == "HZ"


def test_in_transit_stock_is_shown_with_its_date_but_not_sold() -> None:
    answer = promise("SKU1", 3, stock(LA=10), SOURCES, Strategy("shopee"), None, NOW)
    assert not answer.sellable
    assert answer.zh == "海外在途,预计 2026-12-20 到货,暂不可售"
    assert promise("SKU1", 3, {}, SOURCES, Strategy("shopee"), None, NOW).zh == "暂时缺货"


def test_lead_time_per_destination_region() -> None:
    far = Source("NB", "bonded_spot", "宁波仓", "Ningbo", "浙江省", 1, lead_times={"新疆": 5})
    answer = promise("SKU1", 1, stock(NB=1), [far], Strategy("shopee"), "新疆", NOW)
    assert answer.date == date(2026, 12, 1) and answer.zh == "宁波仓有货,预计12月1日达"


@pytest.mark.parametrize("bad, field", [
    ({"kind": "warehouse"}, "kind"), ({"lead_time_days": -1}, "lead_time_days"),
    ({"code": "a b"}, "code"), ({"sync_schedule": "hourly"}, "sync_schedule")])
def test_a_bad_source_names_its_field(bad: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"code": "NB", "kind": "bonded_spot", "name_zh": "宁波仓",
                                 "name_en": "Ningbo", "region": "", "lead_time_days": 1}
    with pytest.raises(InventoryInputError) as caught:
        Source(**{**fields, **bad})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_strategy_cannot_sell_in_transit_stock() -> None:
    with pytest.raises(InventoryInputError) as caught:
        Strategy("shopee", tiers=("bonded_spot", "in_transit"))
    assert caught.value.field == "tiers[1]"
