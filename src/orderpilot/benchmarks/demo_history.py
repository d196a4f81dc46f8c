"""`orderpilot bench demo-history`: how long a fresh demo takes to load its history (what
runs behind the console when `orderpilot demo` starts on a new data directory)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orderpilot.benchmarks.scratch import open_hub, scratch_database

Progress = Callable[[str, int, int], None]


def run(days: float, orders_per_day: float, seed: int, db: str | None,
        progress: Progress) -> dict[str, Any]:
    from orderpilot.simulators.demo_history import HistorySize, backfill

    size = HistorySize(days, orders_per_day, seed)
    with scratch_database(db) as scratch:
        hub = open_hub(scratch)
        try:
            started = time.perf_counter()
            truth = backfill(hub, scratch.data_dir, size,
                             progress=lambda done, total: progress("history", done, total))
            seconds = time.perf_counter() - started
        finally:
            hub.close()
    return {"database": scratch.label, "days": days, "orders": truth["orders"],
            "reports": truth["reports"], "seconds": round(seconds, 2),
            "orders_per_second": round(truth["orders"] / seconds, 1),
            "reports_per_second": round((truth["orders"] + truth["reports"]) / seconds, 1),
            "erp_lag_mean_minutes": round(truth["erp_lag"]["mean_seconds"] / 60, 2)}
