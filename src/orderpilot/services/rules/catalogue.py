"""Everything the rule builder offers, in zh-CN and English, for the console and the API."""

from __future__ import annotations

from collections.abc import Mapping

from orderpilot.domain.currency_rates import BASE, CurrencyRates
from orderpilot.domain.intake import CURRENCIES
from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.fields import ADDRESS_FLAGS, FIELDS, OPERATORS, OPERATORS_BY_TYPE
from orderpilot.domain.rules.triggers import TIMEZONES, event_names


def catalogue(actions: Mapping[str, ActionType], connectors: frozenset[str],
              rates: CurrencyRates | None = None) -> dict[str, object]:
    """ACTIONS: the hub's action table's types; CONNECTORS: the named HTTP connectors an
    http.call may use (a parameter of kind "connector" takes one of them); RATES: the
    administrator's exchange rates (amount conditions in a stated currency convert with
    them)."""
    return {
        "events": [{"type": t, "zh": zh, "en": en} for t, (zh, en) in event_names().items()],
        "timezones": list(TIMEZONES),
        "fields": [{"path": f.path, "type": f.type, "zh": f.zh, "en": f.en,
                    "group": f.group, "choices": list(f.choices),
                    "currency": f.type == "money"} for f in FIELDS],
        "operators": {kind: [{"id": o, "zh": OPERATORS[o].zh, "en": OPERATORS[o].en,
                              "value": OPERATORS[o].value} for o in ops]
                      for kind, ops in OPERATORS_BY_TYPE.items()},
        "connectors": sorted(connectors),
        "address_flags": {k: {"zh": zh, "en": en} for k, (zh, en) in ADDRESS_FLAGS.items()},
        "currencies": [BASE, *(c for c in CURRENCIES if c != BASE)],
        "currency_rates": (rates or CurrencyRates()).dump(),
        "actions": [action_entry(a, connectors) for a in actions.values()],
    }


def action_entry(a: ActionType, connectors: frozenset[str]) -> dict[str, object]:
    return {"type": a.id, "zh": a.zh, "en": a.en, "external": a.external,
            "integration": a.integration, "outputs": a.outputs,
            "output_fields": [{"name": o.name, "type": o.type, "zh": o.zh, "en": o.en}
                              for o in a.output_fields],
            "outcomes": [{"id": o.id, "zh": o.zh, "en": o.en, "output": o.output,
                          "equals": o.equals} for o in a.outcomes],
            "reports_refusals": a.reports_refusals,
            "params": [{"name": p.name, "kind": p.kind, "zh": p.zh, "en": p.en,
                        "required": p.required,
                        "choices": sorted(connectors) if p.kind == "connector"
                        else list(p.choices),
                        "default": p.default, "prefilled": p.prefilled} for p in a.params]}
