"""Stock arrived: wake the retry of the orders held out of stock for those SKUs.

Called in the transaction that raised a level (a level report, a pull, an import, a manual
set, an allocation given back on cancel, a reservation expired), so the wake-up is kept exactly
when the stock is. The retry itself runs later, in the dispatcher (``retry.on_stock_arrived``),
never in the request that brought the stock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from orderpilot.domain.events import new_id
from orderpilot.services.unit_of_work import UnitOfWork

RETRY_TIMER = "inventory.stock_retry"


def wake_retry(uow: UnitOfWork, skus: Iterable[str], now: datetime) -> int:
    """Schedule one retry wake-up per SKU some held order is waiting for; returns how many.

    Rises of one SKU in one report share one wake-up (the caller collects them); each rise
    after that gets its own (a unique key: a wake-up already running may have read the stock
    before this rise committed), and a wake-up finding nothing left to do is harmless."""
    waited = uow.inventory.waiters.skus_waited_for(sorted(set(skus)))
    for sku in waited:
        uow.timers.schedule(f"inventory:stock_retry:{sku}:{new_id()}", RETRY_TIMER, now,
                            {"sku": sku}, now)
    return len(waited)
