"""Exchange rates a rule's money condition converts with: each currency's value in one base
currency (CNY), set by the hub's administrator (``ORDERPILOT_CURRENCY_RATES``). Conversion
between two other currencies goes through the base. No rate, no conversion: the caller says
why instead of guessing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from orderpilot.domain.intake import CURRENCIES

BASE = "CNY"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CurrencyRates:
    # 1 unit of the currency = rate units of BASE
    per_unit: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for code, rate in self.per_unit.items():
            if code not in CURRENCIES:
                raise ValueError(f"unknown currency {code!r} in the rates; known: "
                                 f"{', '.join(CURRENCIES)}")
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"the rate of {code} must be a positive number, not {rate}")

    def rate(self, source: str, target: str) -> Decimal | None:
        """How many TARGET one SOURCE is worth, or None without a rate for either."""
        if source == target:
            return Decimal(1)
        of_source = Decimal(1) if source == BASE else self.per_unit.get(source)
        of_target = Decimal(1) if target == BASE else self.per_unit.get(target)
        if of_source is None or of_target is None:
            return None
        return of_source / of_target

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal | None:
        rate = self.rate(source, target)
        return None if rate is None else (amount * rate).quantize(CENT, ROUND_HALF_UP)

    def dump(self) -> dict[str, object]:
        return {"base": BASE, "rates": {c: format(r.normalize(), "f")
                                        for c, r in sorted(self.per_unit.items())}}
