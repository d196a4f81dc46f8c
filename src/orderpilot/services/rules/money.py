"""Amounts a rule compares in a stated currency: the order's total and shipping fee converted
at the administrator's rates, put in the context as ``money.<CUR>.total`` (what a money leaf
with a currency reads; domain/rules/conditions.py). With no rate the amounts are missing, so
the leaf is false, and the trace says why."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.rules.definition import RuleDefinition

AMOUNTS = ("total", "shipping_fee")


def currencies_used(definitions: Iterable[RuleDefinition]) -> set[str]:
    found: set[str] = set()
    for definition in definitions:
        found.update(definition.currencies_compared)
    return found


def add_money(rates: CurrencyRates, definitions: Iterable[RuleDefinition],
              context: dict[str, object]) -> None:
    """Each currency the rules compare in, under ``money`` (kept, so a run's later `if`s and
    its history see the same amounts and rate)."""
    order = context.get("order")
    wanted = currencies_used(definitions)
    if not isinstance(order, dict) or not wanted:
        return
    money = context.setdefault("money", {})
    if not isinstance(money, dict):
        raise TypeError("the rule context's money is not an object")
    source = str(order.get("currency"))
    for target in sorted(wanted - set(money)):
        rate = rates.rate(source, target)
        if rate is None:
            money[target] = {"from": source, "missing_rate": True}
            continue
        converted: dict[str, object] = {"from": source, "rate": format(rate.normalize(), "f")}
        for name in AMOUNTS:
            amount = order.get(name)
            if isinstance(amount, int | float):
                value = rates.convert(Decimal(str(amount)), source, target)
                converted[name] = float(value) if value is not None else None
        money[target] = converted


def explain(currency: str, context: dict[str, object]) -> dict[str, object]:
    """What a trace leaf in CURRENCY adds: the conversion, or why there was none."""
    money = context.get("money")
    found = money.get(currency) if isinstance(money, dict) else None
    out: dict[str, object] = {"currency": currency}
    if not isinstance(found, dict):
        return out
    source = found.get("from")
    if found.get("missing_rate"):
        out.update(note=f"no exchange rate from {source} to {currency} is set, so the "
                        f"condition does not match",
                   note_zh=f"未设置 {source} 到 {currency} 的汇率，此条件不成立")
    elif source != currency:
        out.update(converted_from=source, rate=found.get("rate"))
    return out


def missing_rates(context: dict[str, object]) -> list[str]:
    """The conversions the context lacked a rate for ("MYR->CNY")."""
    money = context.get("money")
    if not isinstance(money, dict):
        return []
    return [f"{found.get('from')}->{target}" for target, found in sorted(money.items())
            if isinstance(found, dict) and found.get("missing_rate")]
