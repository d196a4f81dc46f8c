"""The lifecycle board's findings: sentences in Chinese and English, read off its numbers.

Each finding has a stable code (``average_time.paid.erp_booked``, ``over_target.paid.
erp_booked``, ``slowest_source.kingdee``, ``report_problems.wms``, ``all_on_target``,
``no_orders``) so a client can pick the ones it wants; nothing here is stored or configured.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderpilot.domain.flow import SourceReports, Transition, node_names
from orderpilot.domain.messages import named

# Edges the business talks about, with the sentence it uses (the mean time, rounded).
AVERAGE_SENTENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("paid", "erp_booked"): ("ERP 平均在付款后 {d}入账",
                             "ERP books orders on average {d} after payment"),
    ("placed", "paid"): ("买家平均在下单后 {d}付款",
                         "Buyers pay on average {d} after placing the order"),
    ("validated", "erp_booked"): ("ERP 平均在校验后 {d}入账",
                                  "ERP books orders on average {d} after validation"),
    ("released_to_wms", "shipped"): ("仓库平均在下发后 {d}发货",
                                     "The warehouse ships on average {d} after release"),
    ("packed", "shipped"): ("仓库平均在打包后 {d}发货",
                            "The warehouse ships on average {d} after packing"),
    ("shipped", "delivered"): ("包裹平均在发货后 {d}签收",
                               "Parcels are delivered on average {d} after shipping"),
    ("in_transit", "delivered"): ("包裹平均在揽收后 {d}签收",
                                  "Parcels are delivered on average {d} after pick-up"),
    ("return_requested", "refunded"): ("退款平均在申请退货后 {d}完成",
                                       "Refunds are paid on average {d} after the return "
                                       "request"),
}
SYSTEM_NAMES = {"storefront": ("店铺", "The storefront"), "erp": ("ERP", "ERP"),
                "wms": ("WMS", "The WMS"), "carrier": ("承运商", "The carrier"),
                "crm": ("CRM", "CRM"), "hub": ("orderpilot", "orderpilot")}
# Reporting sources by name (the channels; outside systems are in domain/messages.py NAMES).
CHANNEL_NAMES = {"shopee": ("Shopee", "Shopee"), "lazada": ("Lazada", "Lazada"),
                 "youzan": ("有赞", "Youzan"), "own_store": ("自营商城", "Own store"),
                 "tiktok": ("TikTok Shop", "TikTok Shop"), "shopify": ("Shopify", "Shopify"),
                 "woocommerce": ("WooCommerce", "WooCommerce"), "tmall": ("天猫", "Tmall"),
                 "jd": ("京东", "JD"), "pinduoduo": ("拼多多", "Pinduoduo"),
                 "douyin": ("抖音", "Douyin")}
PROBLEM_SOURCES = 3  # the sources with most late, duplicated or out-of-order reports shown


@dataclass(frozen=True)
class Finding:
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


def duration(seconds: float) -> tuple[str, str]:
    """A duration as people say it: 45 秒 / 45 s, 12 分钟 / 12 min, 3.5 小时 / 3.5 h, 2.1 天."""
    s = abs(seconds)
    if s < 90:
        n = f"{round(s)}"
        return f"{n} 秒", f"{n} s"
    if s < 90 * 60:
        n = f"{round(s / 60)}"
        return f"{n} 分钟", f"{n} min"
    if s < 48 * 3600:
        n = f"{s / 3600:.1f}".removesuffix(".0")
        return f"{n} 小时", f"{n} h"
    n = f"{s / 86400:.1f}".removesuffix(".0")
    return f"{n} 天", f"{n} days"


def _edge(t: Transition) -> tuple[str, str]:
    (a_zh, a_en), (b_zh, b_en) = node_names(t.from_node), node_names(t.to_node)
    return f"{a_zh} → {b_zh}", f"{a_en} → {b_en}"


def _averages(transitions: list[Transition]) -> list[Finding]:
    found = []
    ranked = list(AVERAGE_SENTENCES)  # in the order the business reads them
    for t in sorted(transitions, key=lambda t: ranked.index((t.from_node, t.to_node))
                    if (t.from_node, t.to_node) in AVERAGE_SENTENCES else len(ranked)):
        sentence = AVERAGE_SENTENCES.get((t.from_node, t.to_node))
        if sentence is None:
            continue
        zh, en = duration(t.mean_seconds)
        found.append(Finding(f"average_time.{t.from_node}.{t.to_node}",
                             sentence[0].format(d=zh), sentence[1].format(d=en)))
    return found


def _against_targets(transitions: list[Transition]) -> list[Finding]:
    measured = [t for t in transitions if t.target_seconds]
    if not measured:
        return []
    worst = max(measured, key=lambda t: (t.p90_seconds / (t.target_seconds or 1), t.count))
    target = worst.target_seconds or 0
    if worst.p90_seconds <= target:
        return [Finding("all_on_target", "所有设有目标的环节 p90 均在目标之内",
                        "Every transition with a target is within it at p90")]
    (edge_zh, edge_en), (p90_zh, p90_en), (t_zh, t_en) = (
        _edge(worst), duration(worst.p90_seconds), duration(target))
    return [Finding(f"over_target.{worst.from_node}.{worst.to_node}",
                    f"最慢环节：{edge_zh}，p90 为 {p90_zh}，超出目标 {t_zh}（{worst.count} 单）",
                    f"Slowest against its target: {edge_en}, p90 {p90_en} against a "
                    f"{t_en} target ({worst.count} orders)")]


def _source_names(code: str) -> tuple[str, str]:
    if code in CHANNEL_NAMES:
        return CHANNEL_NAMES[code]
    return named("source", code, "zh"), named("source", code, "en")


def _system(source: SourceReports) -> tuple[str, str]:
    """"ERP（金蝶云星空）" / "ERP (Kingdee)"; the system alone when the source is it."""
    zh, en = SYSTEM_NAMES.get(source.system, (source.system, source.system))
    if source.source == source.system:
        return zh, en
    name_zh, name_en = _source_names(source.source)
    return f"{zh}（{name_zh}）", f"{en} ({name_en})"


def _sources(sources: list[SourceReports]) -> list[Finding]:
    found = []
    lagging = [s for s in sources if s.lag_p99_seconds is not None]
    if lagging:
        worst = max(lagging, key=lambda s: (s.lag_p99_seconds or 0, s.count))
        (who_zh, who_en), (p99_zh, p99_en) = _system(worst), duration(
            worst.lag_p99_seconds or 0)
        mid_zh, mid_en = duration(worst.lag_p50_seconds or 0)
        found.append(Finding(
            f"slowest_source.{worst.source}",
            f"回报最慢的是{who_zh}：p99 延迟 {p99_zh}，中位 {mid_zh}",
            f"{who_en} reports slowest: lag p99 {p99_en}, median {mid_en}"))
    troubled = sorted((s for s in sources if s.late + s.duplicates + s.out_of_order),
                      key=lambda s: (-(s.late + s.duplicates + s.out_of_order), s.source))
    for s in troubled[:PROBLEM_SOURCES]:
        who_zh, who_en = _system(s)
        found.append(Finding(
            f"report_problems.{s.source}",
            f"{who_zh}：迟到回报 {s.late} 条，重复 {s.duplicates} 条，乱序 {s.out_of_order} 条",
            f"{who_en}: {s.late} late, {s.duplicates} duplicated and {s.out_of_order} "
            "out-of-order reports"))
    return found


def findings(orders: int, transitions: list[Transition],
             sources: list[SourceReports],
             elapsed: list[Transition] | None = None) -> list[Finding]:
    """What the board says, most useful first: named averages (from ELAPSED, node to node per
    order, when given; else from the edges), the edge furthest past its target, the
    slowest-reporting source, the sources sending bad reports."""
    if orders == 0:
        return [Finding("no_orders", "所选范围内没有订单", "No orders in the selected range")]
    return (_averages(transitions if elapsed is None else elapsed)
            + _against_targets(transitions) + _sources(sources))
