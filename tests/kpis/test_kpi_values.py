"""Each outcome KPI on the hand-made history of kpi_seed.py, exactly, on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from kpis import kpi_seed as s
from orderpilot.adapters.views.kpis import outcome_kpis
from orderpilot.bootstrap import Hub


def kpis(hub: Hub, now: Any = s.EARLY_NOW, **scope: Any) -> dict[str, Any]:
    with hub.db.read() as conn:
        return outcome_kpis(conn, since=scope.pop("since", s.SINCE),
                            until=scope.pop("until", s.UNTIL), now=now, **scope)


def test_every_kpi_of_the_period_exactly(hub: Hub) -> None:
    s.seed(hub)
    assert kpis(hub) == {
        "orders": 8,
        # delivered after 24, 36, 48 and 108 hours: nearest rank 2 and 4 of 4
        "fulfilment_cycle_hours": {"p50": 36.0, "p90": 108.0},
        # A1, A7 on time; A2 delivered late; A4 undelivered past its promise; A10's stands
        "on_time_rate": 0.5,
        # buyers P1 P2 P3 repurchased within 30 days, P4 P5 P7 did not; 90-day windows open
        "repurchase_rate_30d": 0.5,
        "repurchase_rate_90d": None,
        "return_processing_hours": {"p50": 12.0, "p90": 30.0},
        "cancellation_rate": 0.25,
        "manual_intervention_rate": 0.25,
        # the latest run covering 11-01..11-07: 1 discrepant order of 8
        "discrepancy_per_mille": 125.0,
    }


def test_later_the_ninety_day_windows_and_the_last_promise_count(hub: Hub) -> None:
    s.seed(hub)
    figures = kpis(hub, now=s.LATE_NOW)
    assert figures["repurchase_rate_90d"] == pytest.approx(4 / 6)  # P5 came back on day 44
    assert figures["repurchase_rate_30d"] == 0.5
    assert figures["on_time_rate"] == 0.4  # A10 passed its promise undelivered


def test_per_channel_and_per_shop(hub: Hub) -> None:
    s.seed(hub)
    shopee = kpis(hub, channel="shopee")
    assert shopee["orders"] == 6
    assert shopee["repurchase_rate_30d"] == 0.4  # P1's second order was on lazada
    assert shopee["on_time_rate"] == pytest.approx(2 / 3)
    assert shopee["cancellation_rate"] == pytest.approx(1 / 6)
    assert shopee["manual_intervention_rate"] == pytest.approx(1 / 6)
    assert shopee["discrepancy_per_mille"] == pytest.approx(1000 / 6)
    lazada = kpis(hub, channel="lazada")
    assert lazada["orders"] == 2
    assert lazada["fulfilment_cycle_hours"] == {"p50": None, "p90": None}
    assert lazada["on_time_rate"] == 0.0
    assert lazada["return_processing_hours"] == {"p50": None, "p90": None}
    assert lazada["cancellation_rate"] == 0.5
    assert lazada["manual_intervention_rate"] == 0.5
    assert lazada["discrepancy_per_mille"] == 0.0
    shop = kpis(hub, shop="SG-02")
    assert shop["orders"] == 2
    assert shop["fulfilment_cycle_hours"] == {"p50": 24.0, "p90": 24.0}
    assert shop["return_processing_hours"] == {"p50": 12.0, "p90": 12.0}
    assert shop["on_time_rate"] is None  # A10's promise still stands, A3 had none


def test_no_data_is_null_not_zero(hub: Hub) -> None:
    s.seed(hub)
    empty = kpis(hub, since=s.bj(1, 1, year=2025), until=s.bj(1, 2, year=2025))
    assert empty == {"orders": 0, "fulfilment_cycle_hours": {"p50": None, "p90": None},
                     "on_time_rate": None, "repurchase_rate_30d": None,
                     "repurchase_rate_90d": None,
                     "return_processing_hours": {"p50": None, "p90": None},
                     "cancellation_rate": None, "manual_intervention_rate": None,
                     "discrepancy_per_mille": None}
    # October 31st is in no reconciliation run
    wider = kpis(hub, since=s.bj(10, 31))
    assert wider["orders"] == 9
    assert wider["discrepancy_per_mille"] is None
