"""The surge benchmark at CI size: a few hundred orders in about a minute through the real
processes, with slow simulators failing 2% of calls; on PostgreSQL with two workers, one of
them SIGKILLed halfway. Nothing acknowledged is lost, no effect happens twice, and every order
ends where an independent model of its reports says (benchmarks/surge.py)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import require_pg
from conftest_pg import ADMIN_URL
from orderpilot.benchmarks import surge

pytestmark = pytest.mark.slow

ORDERS = 300
MINUTES = 0.5


def _check(result: dict[str, Any]) -> None:
    assert result["acknowledged"] == ORDERS, result
    assert result["lost"] == 0, result
    assert result["duplicated_effects"] == 0, result["duplicated_effects_by_kind"]
    assert result["state_mismatches"] == 0, result["state_mismatch_examples"]
    assert result["refused_reports"] == 0, result  # every report was legal or a late copy
    # the rule ran on every paid order and its outside calls were made despite the faults
    assert sum(result["rule_runs"].values()) == result["rule_runs"].get("succeeded"), result
    assert result["event_to_action_p99_ms"] is not None
    assert result["backlog_drained_seconds"] is not None, result["backlog_left"]
    for key in ("backlog_drained_seconds", "peak_rss_mb", "orders", "acknowledged"):
        assert key in result


def test_surge_on_the_embedded_default() -> None:
    result = surge.run(ORDERS, MINUTES, None, lambda *_: None)
    assert result["database"] == "sqlite" and result["worker_processes"] == 0
    _check(result)


@pytest.mark.postgres
def test_surge_on_postgresql_with_two_workers_one_killed() -> None:
    require_pg()
    result = surge.run(ORDERS, MINUTES, ADMIN_URL, lambda *_: None, workers=2,
                       kill_worker=True)
    assert result["database"] == "postgresql" and result["killed_worker"] is True
    assert len(result["peak_rss_mb_by_process"]) == 4  # serve, two workers, the replacement
    _check(result)
