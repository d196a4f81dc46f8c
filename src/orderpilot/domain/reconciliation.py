"""Three-way reconciliation (S12c): what a discrepancy is, what to do about it, and the rate.

Storefront sales, WMS outbound and ERP receivables are compared with each other and with the
hub, per order and line, for the orders *placed* in a period of Shanghai business days (placed,
not paid: an order belongs to one period for good, whatever happens to it later). The
comparison itself runs in duckdb (adapters/analytics/reconcile.py); this module holds the
classes, their names and suggested fixes in both languages, and the arithmetic of the rate.

Rate per mille = orders with at least one discrepancy / orders in the period x 1000. The seed
company's target is at most 0.3; the industry's usual figure is 1.2 (BRIEF.md S12c). A file row
naming an order the hub does not know counts once per distinct reference as a discrepant order
(the numerator), never in the denominator (the hub does not know the order).

Amounts must agree to the cent: ``AMOUNT_TOLERANCE_CENTS = 0``. Receivables and settlements
are compared with the order's total as the hub has it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import SHANGHAI

AMOUNT_TOLERANCE_CENTS = 0
TARGET_PER_MILLE = Decimal("0.3")
INDUSTRY_PER_MILLE = Decimal("1.2")
MAX_DAYS = 366
STATUSES = ("open", "fixed", "accepted")
SIDES = ("storefront", "erp", "wms")


@dataclass(frozen=True)
class Kind:
    code: str
    zh: str
    en: str
    fix_zh: str
    fix_en: str
    auto_fix: bool = False  # an integration can put it right safely (re-push to the ERP)


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("missing_in_erp", "ERP 缺单", "Missing in ERP",
         "重新推送订单到 ERP（重新排队入账）",
         "Push the order to the ERP again (re-queue its booking)",
         auto_fix=True),
    Kind("missing_in_wms", "WMS 缺出库", "Missing in WMS",
         "向 WMS 核实出库单并补录出库回传", "Check the outbound order with the WMS and record its "
         "missing callback"),
    Kind("amount_mismatch", "金额不一致", "Amount mismatch",
         "核对订单金额与应收/结算金额，更正错误的一方", "Compare the order total with the "
         "receivable or settlement and correct the side that is wrong"),
    Kind("quantity_mismatch", "数量不一致", "Quantity mismatch",
         "核对出库数量与订单数量，补发或更正出库单", "Compare the shipped and ordered quantities; "
         "ship the rest or correct the outbound order"),
    Kind("shipped_without_receivable", "已发货无应收", "Shipped without receivable",
         "在 ERP 中为该出库生成应收单", "Create the receivable for this shipment in the ERP"),
    Kind("receivable_without_shipment", "有应收未发货", "Receivable without shipment",
         "确认是否已发货；未发货则冲销应收单", "Check whether it shipped; if not, reverse the "
         "receivable"),
    Kind("returned_but_receivable_open", "已退货应收未核销", "Returned but receivable open",
         "按退货冲销或核销原应收单", "Close or offset the original receivable against the return"),
    Kind("duplicate_receivable", "重复应收", "Duplicate receivable",
         "作废多余的应收单，只保留一张", "Void the extra receivable and keep one"),
    Kind("missing_in_storefront", "平台缺结算", "Missing in storefront settlement",
         "向平台核实该订单的结算记录", "Ask the platform about this order's settlement"),
    Kind("unknown_to_hub", "中台无此订单", "Unknown to the hub",
         "核对订单号；如为漏单，将订单导入中台", "Check the order number; if the hub missed it, "
         "import the order"),
)}


def kind_name(code: str, zh: bool) -> str:
    found = KINDS.get(code)
    return code if found is None else (found.zh if zh else found.en)


@dataclass(frozen=True)
class Discrepancy:
    """One thing that does not agree. ``expected`` is the hub's side, ``actual`` the other
    system's (amounts as "258.00", quantities as digits, "" when the side has nothing)."""

    kind: str
    order_id: str | None
    order_ref: str  # the platform's order number (or the reference a file gave)
    sku: str = ""
    expected: str = ""
    actual: str = ""
    source: str = ""  # "events" or the file's name


@dataclass(frozen=True)
class Finding:
    """A problem in a file, by file, row (as Excel shows it) and field; the row is left out."""

    file: str
    row: int
    field: str
    code: str
    en: str
    zh: str


@dataclass
class Result:
    since: date
    until: date
    orders: int  # hub orders placed in the period
    discrepancies: list[Discrepancy] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # side -> "events" | file name
    files: list[dict[str, object]] = field(default_factory=list)  # rows read/used per file

    @property
    def discrepant_orders(self) -> int:
        return len({d.order_id or f"?{d.order_ref}" for d in self.discrepancies})

    @property
    def per_mille(self) -> Decimal:
        return per_mille(self.discrepant_orders, self.orders)

    def counts(self) -> dict[str, int]:
        found = Counter(d.kind for d in self.discrepancies)
        return {code: found[code] for code in KINDS}


def per_mille(discrepant: int, orders: int) -> Decimal:
    """Discrepant orders per thousand, to three places (0 when there are no orders)."""
    if orders <= 0:
        return Decimal("0.000")
    return (Decimal(discrepant) * 1000 / Decimal(orders)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP)


def parse_day(value: object, field_name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{field_name} must be a day as YYYY-MM-DD: {str(value)[:40]!r}",
                           field=field_name, code="bad_day",
                           zh=f"{field_name} 应为 YYYY-MM-DD 格式的日期：{str(value)[:40]!r}"
                           ) from None


def period(since: object, until: object) -> tuple[date, date]:
    """Both days inclusive, Shanghai business days; at most MAX_DAYS long."""
    first, last = parse_day(since, "since"), parse_day(until, "until")
    if last < first:
        raise InvalidInput("until must not be before since", field="until", code="bad_period",
                           zh="until 不能早于 since")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days", field="until",
                           code="bad_period", zh=f"对账期间最长 {MAX_DAYS} 天")
    if first.year < 1901 or last.year > 8999:
        raise InvalidInput("the period is out of range", field="since", code="bad_period",
                           zh="对账期间超出范围")
    return first, last


def utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of ``first``, start of the day after ``last``) in Shanghai, as UTC."""
    start = datetime.combine(first, time(), tzinfo=SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=SHANGHAI)
    return start.astimezone(UTC), end.astimezone(UTC)


def cents_text(cents: int | None) -> str:
    if cents is None:
        return ""
    return f"{Decimal(cents) / 100:.2f}"


@dataclass(frozen=True)
class RunSummary:
    """A stored run: its period, where each side came from, and the counts."""

    id: str
    since: date
    until: date
    sources: dict[str, str]
    files: list[dict[str, object]]
    findings: list[dict[str, object]]
    counts: dict[str, int]
    orders: int
    discrepant_orders: int
    per_mille: Decimal
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class StoredDiscrepancy:
    run_id: str
    n: int
    item: Discrepancy
    status: str = "open"
    action: str | None = None
    changed_by: str | None = None
    changed_at: datetime | None = None


def finding_dict(finding: Finding) -> dict[str, object]:
    return {"file": finding.file, "row": finding.row, "field": finding.field,
            "code": finding.code, "message": finding.en, "message_zh": finding.zh}
