"""The walkthrough audit (S12a): a random sample of orders followed through every node they
passed, and every connected system's view of each compared with the hub's.

Plain logic only: the sample, the per-node lag, the comparisons (status, amount, quantities,
address), the zh/en sentences and the summary. Where the views come from (live look-ups or the
systems' last reports) is the service's and the adapters' business.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain import lifecycle
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.masking import mask_address

MAX_SAMPLE = 1000
DEFAULT_SAMPLE = 100
DEFAULT_LAG_TARGET_SECONDS = 30

# The systems a walkthrough looks at, with their zh/en names. ``erp_receivable`` is the ERP's
# receivable (应收单), kept apart from its sale order (``erp``).
SYSTEMS: dict[str, tuple[str, str]] = {
    "storefront": ("销售渠道", "Sales channel"),
    "erp": ("ERP 销售订单", "ERP sale order"),
    "erp_receivable": ("ERP 应收单", "ERP receivable"),
    "wms": ("仓库出库单", "WMS outbound"),
    "carrier": ("承运商轨迹", "Carrier tracking"),
    "crm": ("客服系统", "CRM"),
    "hub": ("中台", "Hub"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "status": ("状态", "status"),
    "amount": ("金额", "amount"),
    "quantity": ("数量", "quantities"),
    "address": ("地址", "address"),
    "presence": ("单据", "record"),
    "lag": ("节点延迟", "node lag"),
}

ORIGINS = ("live", "report")


@dataclass(frozen=True)
class Params:
    """What one walkthrough is asked for (validated by :func:`params`)."""

    sample: int
    seed: int
    since: datetime | None = None
    until: datetime | None = None


def params(sample: Any, seed: Any, since: datetime | None, until: datetime | None,
           default_seed: int) -> Params:
    """The request checked: every problem refused with its field, zh and en."""
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= MAX_SAMPLE:
        raise InvalidInput(f"sample must be a whole number from 1 to {MAX_SAMPLE}",
                           field="sample", zh=f"sample 应为 1 到 {MAX_SAMPLE} 之间的整数")
    if seed is None:
        seed = default_seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 63:
        raise InvalidInput("seed must be a whole number from 0 to 2^63-1", field="seed",
                           zh="seed 应为 0 到 2^63-1 之间的整数")
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since must be before until", field="since",
                           zh="since 应早于 until")
    return Params(sample, seed, since, until)


def sample_ids(order_ids: Iterable[str], size: int, seed: int) -> list[str]:
    """SIZE ids drawn at random with SEED: the same ids for the same seed and history,
    whatever order the database returned them in."""
    ids = sorted(set(order_ids))
    if len(ids) <= size:
        return ids
    return sorted(random.Random(seed).sample(ids, size))


@dataclass(frozen=True)
class HubOrder:
    """The hub's own view of one order."""

    id: str
    external_id: str
    channel: str
    shop_id: str
    status: str
    currency: str
    total: Decimal
    quantities: Mapping[str, int]  # sku -> units still ordered (cancelled units taken off)
    address: str
    placed_at: datetime


@dataclass(frozen=True)
class NodeReport:
    """One report that took the order to a node (or reported a node it had passed)."""

    node: str
    event_type: str
    system: str
    source: str
    occurred_at: datetime
    recorded_at: datetime

    @property
    def lag_seconds(self) -> float:
        return (self.recorded_at - self.occurred_at).total_seconds()


@dataclass(frozen=True)
class SystemView:
    """What one connected system says about the order now.

    STATUS is a lifecycle node when the system's status maps to one (None: not comparable);
    STATUS_TEXT is the system's own word for it. FOUND is False when a live look-up did not
    find the record. None for AMOUNT, QUANTITIES or ADDRESS: the system did not say."""

    system: str
    origin: str  # live | report
    found: bool = True
    status: str | None = None
    status_text: str = ""
    amount: Decimal | None = None
    quantities: Mapping[str, int] | None = None
    address: str | None = None
    reference: str = ""  # the system's document number (bill no, outbound id, waybill)


@dataclass(frozen=True)
class Finding:
    order_id: str
    external_id: str
    system: str
    node: str
    field: str
    hub_value: str
    system_value: str
    origin: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"order_id": self.order_id, "external_id": self.external_id,
                "system": self.system, "node": self.node, "field": self.field,
                "hub_value": self.hub_value, "system_value": self.system_value,
                "origin": self.origin, "zh": self.zh, "en": self.en}


def normal_address(text: str) -> str:
    """Addresses compared without spaces, punctuation or case: '浙江省 杭州市, 文三路 1 号'
    equals '浙江省杭州市文三路1号'."""
    return re.sub(r"[\s,，.。;；:：/\\\-_#]+", "", text).casefold()


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _quantities(values: Mapping[str, int]) -> str:
    return ", ".join(f"{sku}×{qty}" for sku, qty in sorted(values.items()))


def _system_names(system: str) -> tuple[str, str]:
    return SYSTEMS.get(system, (system, system))


def _status_names(status: str) -> tuple[str, str]:
    node = lifecycle.NODE_BY_ID.get(status)
    return (node.zh, node.en) if node else (status, status)


def status_agrees(hub_status: str, system_status: str) -> bool:
    """A system may lag behind the hub (it reported an earlier node), never be ahead of it
    or on another branch: its node must be the hub's or one the hub has passed."""
    return system_status == hub_status or system_status in lifecycle.predecessors(hub_status)


def compare(order: HubOrder, view: SystemView, node: str = "") -> list[Finding]:
    """Every field on which VIEW disagrees with the hub."""
    zh_sys, en_sys = _system_names(view.system)
    found: list[Finding] = []

    def add(field_: str, hub_value: str, system_value: str, zh: str, en: str) -> None:
        found.append(Finding(order.id, order.external_id, view.system, node, field_,
                             hub_value, system_value, view.origin, zh, en))

    if not view.found:
        add("presence", order.external_id, "", f"{zh_sys}中找不到订单 {order.external_id}",
            f"{en_sys} has no record of order {order.external_id}")
        return found
    if view.status is not None and not status_agrees(order.status, view.status):
        hz, he = _status_names(order.status)
        sz, se = _status_names(view.status)
        add("status", order.status, view.status,
            f"{zh_sys}显示「{sz}」，中台为「{hz}」",
            f"{en_sys} says {se}, the hub says {he}")
    if view.amount is not None and view.amount != order.total:
        add("amount", _money(order.total), _money(view.amount),
            f"{zh_sys}金额 {_money(view.amount)} {order.currency}，中台为 "
            f"{_money(order.total)} {order.currency}",
            f"{en_sys} amount {_money(view.amount)} {order.currency}, the hub has "
            f"{_money(order.total)} {order.currency}")
    if view.quantities is not None:
        hub_q = dict(order.quantities)
        if set(view.quantities) == {"*"}:  # the system gave a total number of units only
            hub_q = {"*": sum(hub_q.values())}
        theirs = {k: v for k, v in view.quantities.items() if v}
        if theirs != {k: v for k, v in hub_q.items() if v}:
            add("quantity", _quantities(hub_q), _quantities(theirs),
                f"{zh_sys}数量为 {_quantities(theirs)}，中台为 {_quantities(hub_q)}",
                f"{en_sys} has quantities {_quantities(theirs)}, the hub has "
                f"{_quantities(hub_q)}")
    if view.address is not None and normal_address(view.address) != normal_address(
            order.address):
        add("address", order.address, view.address,
            f"{zh_sys}的收货地址与中台不一致", f"{en_sys} ships to another address than the hub")
    return found


def lag_findings(order: HubOrder, reports: Sequence[NodeReport],
                 target_seconds: float) -> list[Finding]:
    """Each node whose report reached the hub more than TARGET_SECONDS after it happened."""
    found = []
    for r in reports:
        if r.lag_seconds > target_seconds:
            node = lifecycle.NODE_BY_ID.get(r.node)
            zh_node, en_node = (node.zh, node.en) if node else (r.node, r.node)
            zh_sys, en_sys = _system_names(r.system)
            lag = _seconds(r.lag_seconds)
            found.append(Finding(
                order.id, order.external_id, r.system, r.node, "lag", f"<= {target_seconds:g}",
                lag, "report",
                f"「{zh_node}」由{zh_sys}在发生 {lag} 秒后才送达中台"
                f"（目标 ≤ {target_seconds:g} 秒）",
                f"{en_node} reached the hub {lag} s after it happened at {en_sys} "
                f"({r.source}); target <= {target_seconds:g} s"))
    return found


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value)}"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (the smallest value with at least Q of them at or below it);
    0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class OrderWalk:
    """One sampled order: its nodes and what every system said."""

    order: HubOrder
    reports: list[NodeReport]
    views: list[SystemView]
    findings: list[Finding] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not any(f.field != "lag" for f in self.findings)

    @property
    def on_time(self) -> bool:
        return not any(f.field == "lag" for f in self.findings)


def walk(order: HubOrder, reports: Sequence[NodeReport], views: Sequence[SystemView],
         target_seconds: float, missing: Sequence[Finding] = ()) -> OrderWalk:
    """One order's findings; MISSING: the reports it should have had (walkthrough_reports.
    missing_reports)."""
    node_of = {}
    for r in reports:  # a system's view is compared at the last node that system reported
        node_of[r.system] = r.node
    findings = lag_findings(order, reports, target_seconds)
    for view in views:
        system = "erp" if view.system == "erp_receivable" else view.system
        findings += compare(order, view, node_of.get(system, ""))
    findings += missing
    return OrderWalk(order, list(reports), list(views), findings)


def summary(walks: Sequence[OrderWalk], target_seconds: float) -> dict[str, Any]:
    """The headline and the per-node lag table."""
    lags: dict[str, list[float]] = {}
    for w in walks:
        for r in w.reports:
            lags.setdefault(r.node, []).append(r.lag_seconds)
    every = [v for values in lags.values() for v in values]
    consistent = sum(1 for w in walks if w.consistent)
    p99 = percentile(every, 99)
    order_of = {n.id: i for i, n in enumerate(lifecycle.NODES)}
    late_total = sum(1 for values in lags.values() for v in values if v > target_seconds)
    nodes = [{"node": node, "zh": lifecycle.NODE_BY_ID[node].zh if node in
              lifecycle.NODE_BY_ID else node,
              "en": lifecycle.NODE_BY_ID[node].en if node in lifecycle.NODE_BY_ID else node,
              "count": len(values), "p50_seconds": percentile(values, 50),
              "p99_seconds": percentile(values, 99),
              "late": sum(1 for v in values if v > target_seconds)}
             for node, values in sorted(lags.items(), key=lambda kv: order_of.get(kv[0], 99))]
    total = len(walks)
    return {
        "orders": total, "consistent": consistent,
        "inconsistent": total - consistent,
        "late_nodes": late_total,
        "lag_target_seconds": target_seconds,
        "lag_p99_seconds": p99,
        "en": f"{consistent}/{total} consistent, node lag p99 {_seconds(p99)} s",
        "zh": f"{consistent}/{total} 一致，节点延迟 p99 {_seconds(p99)} 秒",
        "nodes": nodes,
    }


def ordered(walks: Sequence[OrderWalk]) -> list[OrderWalk]:
    """Inconsistent orders first, then late ones, then the rest; by platform number within."""
    return sorted(walks, key=lambda w: (w.consistent, w.on_time, w.order.external_id,
                                        w.order.id))


def document(walks: Sequence[OrderWalk], target_seconds: float) -> dict[str, Any]:
    """The whole result as JSON-ready data (what is stored, exported and answered)."""
    return {
        "summary": summary(walks, target_seconds),
        "orders": [{
            "order_id": w.order.id, "external_id": w.order.external_id,
            "channel": w.order.channel, "shop_id": w.order.shop_id,
            "status": w.order.status, "consistent": w.consistent, "on_time": w.on_time,
            "nodes": [{"node": r.node, "event_type": r.event_type, "system": r.system,
                       "source": r.source, "occurred_at": r.occurred_at.isoformat(),
                       "recorded_at": r.recorded_at.isoformat(),
                       "lag_seconds": r.lag_seconds} for r in w.reports],
            "systems": [{"system": v.system, "origin": v.origin, "found": v.found,
                         "status": v.status_text or v.status or "",
                         "reference": v.reference} for v in w.views],
            "findings": [f.as_dict() for f in w.findings],
        } for w in ordered(walks)],
    }


def masked(result: Mapping[str, Any]) -> dict[str, Any]:
    """RESULT with the addresses in its findings masked, for a reader without ``pii.read``."""
    out = dict(result)
    orders = []
    for o in result.get("orders", []):
        findings = [
            {**f, "hub_value": mask_address(f["hub_value"]),
             "system_value": mask_address(f["system_value"])} if f.get("field") == "address"
            else f for f in o.get("findings", [])]
        orders.append({**o, "findings": findings})
    out["orders"] = orders
    return out


__all__ = ["DEFAULT_LAG_TARGET_SECONDS", "DEFAULT_SAMPLE", "FIELDS", "MAX_SAMPLE", "SYSTEMS",
           "Finding", "HubOrder", "NodeReport", "OrderWalk", "Params", "SystemView",
           "compare", "document", "lag_findings", "masked", "normal_address", "params",
           "percentile", "sample_ids", "status_agrees", "summary", "walk"]
