"""Retroactive expectations for the API and the console: the hub's snapshot, refreshed, asked
once (adapters/analytics/expectations.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderpilot.adapters.analytics.expectations import retroactive_breaches
from orderpilot.bootstrap import Hub
from orderpilot.domain.expectations import Expectation
from orderpilot.domain.times import EARLIEST, LATEST
from orderpilot.services.expectations import Evaluate


def breaches(hub: Hub, expectation: Expectation, since: datetime | None = None,
             until: datetime | None = None, limit: int = 1000) -> dict[str, Any]:
    with hub.analytics().cursor() as cursor:
        return retroactive_breaches(cursor, expectation, since or EARLIEST, until or LATEST,
                                    as_of=hub.clock(), limit=limit)


def evaluator(hub: Hub) -> Evaluate:
    """The count over all history, stored when an expectation is published or evaluated."""
    return lambda expectation: int(breaches(hub, expectation, limit=0)["count"])
