"""The outcome report of a simulated company: each figure from the hub's own services and
views over the simulated period, beside the seed's before/after (BRIEF.md S11, S12, S15).

* walkthrough: the walkthrough audit (services/walkthrough.py) over a sample of the period's
  orders drawn from the plan with the seed (the hub's order ids are random, so the sample is
  named by the plan to be the same in two runs); consistent = its consistent share, node lag
  p99 = its per-node lag p99 (recorded_at - occurred_at, simulated seconds);
* discrepancy per mille: the three-way reconciliation (adapters/analytics/reconcile.py) of the
  orders placed in the period, from what the systems reported;
* return address accuracy: the return metrics' routed accuracy (adapters/views/return_metrics);
* promise then out of stock: orders the delivery promise said were in stock that went out of
  stock at allocation (company/play.py);
* manual intervention, fulfilment cycle, on-time: ``adapters.views.kpis.outcome_kpis``.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderpilot.adapters.views import kpis as kpi_view
from orderpilot.adapters.views import return_metrics
from orderpilot.domain.reconciliation import INDUSTRY_PER_MILLE, TARGET_PER_MILLE
from orderpilot.domain.times import SHANGHAI
from orderpilot.domain.walkthrough import HubOrder, Params, SystemView
from orderpilot.domain.walkthrough_reports import Report as WalkReport
from orderpilot.simulators.company.play import Recorded, out_of_stock
from orderpilot.simulators.demo_history_plan import OrderStory

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub
    from orderpilot.services.walkthrough import History

WALKTHROUGH_SAMPLE = 100
# figure -> (zh, en, the seed's before, the seed's after or target); BRIEF.md S11/S12/S15
SEED_FIGURES: dict[str, tuple[str, str, str, str]] = {
    "walkthrough_consistent": ("全链路抽检一致率", "walkthrough consistent", "", "100%"),
    "node_lag_p99_seconds": ("节点延迟 p99（秒）", "node lag p99 (s)", "", "≤ 30"),
    "manual_intervention_rate": ("人工干预率", "manual intervention rate", "34%", "≤ 5%"),
    "discrepancy_per_mille": ("三方对账差异率（‰）", "discrepancy (‰)",
                              f"{INDUSTRY_PER_MILLE} (industry)", f"≤ {TARGET_PER_MILLE}"),
    "return_address_accuracy": ("退货地址准确率", "return address accuracy", "59%", "99.2%"),
    "promise_then_out_of_stock": ("承诺有货后缺货单数", "promised, then out of stock", "",
                                  "0"),
    "fulfilment_cycle_hours_p50": ("履约周期 p50（小时）", "fulfilment cycle p50 (h)",
                                   "139 (5.8 d)", "77 (3.2 d)"),
    "on_time_rate": ("准时交付率", "on-time rate", "73.4%", "92.7%"),
}


@dataclasses.dataclass
class ChosenOrders:
    """The hub's history, listing only the orders the simulator chose to walk through."""

    history: History
    ids: list[str]

    def order_ids(self, since: datetime | None, until: datetime | None) -> list[str]:
        return list(self.ids)

    def order(self, order_id: str) -> HubOrder | None:
        return self.history.order(order_id)

    def reports(self, order_id: str) -> list[WalkReport]:
        return self.history.reports(order_id)

    def stored_views(self, order: HubOrder) -> list[SystemView]:
        return self.history.stored_views(order)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def outcome(hub: Hub, stories: list[OrderStory], recorded: Recorded, *, seed: int,
            since: datetime, until: datetime, horizon: datetime) -> dict[str, Any]:
    """The figures of the orders placed in [since, until), read at HORIZON."""
    numbers = sorted(n for n in recorded.order_ids)
    chosen = sorted(random.Random(seed).sample(numbers, min(WALKTHROUGH_SAMPLE, len(numbers))))
    walk = _walkthrough(hub, [recorded.order_ids[n] for n in chosen], seed, since, until)
    with hub.db.read() as conn:
        k = kpi_view.outcome_kpis(conn, since=since, until=until, now=horizon)
        returns = return_metrics.metrics(conn, return_metrics.Period(since, horizon))
    accuracy = returns["address_accuracy"]
    short, promised_short = out_of_stock(hub, recorded)
    return {
        "orders": len(recorded.order_ids),
        "walkthrough_sampled": walk["orders"],
        "walkthrough_consistent": (round(walk["consistent"] / walk["orders"], 4)
                                   if walk["orders"] else None),
        "node_lag_p99_seconds": _rounded(walk.get("lag_p99_seconds"), 1),
        "manual_intervention_rate": _rounded(k["manual_intervention_rate"], 4),
        "discrepancy_per_mille": float(_per_mille(hub, since, until)),
        "return_address_accuracy": (_rounded(accuracy["rate"], 4)
                                    if accuracy["routes"] else None),
        "returns": accuracy["routes"],
        "promise_then_out_of_stock": promised_short,
        "out_of_stock_orders": short,
        "fulfilment_cycle_hours_p50": _rounded(k["fulfilment_cycle_hours"]["p50"], 1),
        "fulfilment_cycle_hours_p90": _rounded(k["fulfilment_cycle_hours"]["p90"], 1),
        "on_time_rate": _rounded(k["on_time_rate"], 4),
        "staff_actions": dict(sorted(recorded.staff_actions.items())),
        "refused_reports": len(recorded.refused),
        # Lost WMS callbacks the hub's status checks found at the WMS (services/wms_checks.py)
        "lost_wms_callbacks": sum(1 for s in stories if s.lost),
        "wms_callbacks_recovered": _recovered(hub),
    }


def _recovered(hub: Hub) -> int:
    with hub.uow() as uow:
        return uow.wms_outbound.check_counts().get("recovered", 0)


def _walkthrough(hub: Hub, order_ids: list[str], seed: int, since: datetime,
                 until: datetime) -> dict[str, Any]:
    if not order_ids:
        return {"orders": 0, "consistent": 0, "lag_p99_seconds": None}
    service = hub.walkthrough()
    service = dataclasses.replace(service, history=ChosenOrders(service.history, order_ids))
    run = service.run(Params(len(order_ids), seed, since, until), "sim-ops-1", None, pii=False)
    return dict(run.summary)


def _per_mille(hub: Hub, since: datetime, until: datetime) -> Any:
    from orderpilot.adapters.analytics.reconcile import reconcile

    first = since.astimezone(SHANGHAI).date()
    last = (until - timedelta(seconds=1)).astimezone(SHANGHAI).date()
    with hub.analytics().cursor() as cur:
        return reconcile(cur, first, last, {}).per_mille
