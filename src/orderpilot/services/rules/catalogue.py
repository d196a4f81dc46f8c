"""Everything the rule builder offers, in zh-CN and English, for the console and the API."""

from __future__ import annotations

from collections.abc import Mapping

from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.fields import ADDRESS_FLAGS, FIELDS, OPERATORS, OPERATORS_BY_TYPE
from orderpilot.domain.rules.triggers import TIMEZONES, event_names


def catalogue(actions: Mapping[str, ActionType], connectors: frozenset[str]) -> dict[str, object]:
    """ACTIONS: the hub's action table's types; CONNECTORS: the named HTTP connectors an
    http.call may use (a parameter of kind "connector" takes one of them)."""
    return {
        "events": [{"type": t, "zh": zh, "en": en} for t, (zh, en) in event_names().items()],
        "timezones": list(TIMEZONES),
        "fields": [{"path": f.path, "type": f.type, "zh": f.zh, "en": f.en,
                    "group": f.group, "choices": list(f.choices)} for f in FIELDS],
        "operators": {kind: [{"id": o, "zh": OPERATORS[o].zh, "en": OPERATORS[o].en,
                              "value": OPERATORS[o].value} for o in ops]
                      for kind, ops in OPERATORS_BY_TYPE.items()},
        "connectors": sorted(connectors),
        "address_flags": {k: {"zh": zh, "en": en} for k, (zh, en) in ADDRESS_FLAGS.items()},
        "actions": [{"type": a.id, "zh": a.zh, "en": a.en, "external": a.external,
                     "outputs": a.outputs,
                     "params": [{"name": p.name, "kind": p.kind, "zh": p.zh, "en": p.en,
                                 "required": p.required,
                                 "choices": sorted(connectors) if p.kind == "connector"
                                 else list(p.choices),
                                 "default": p.default} for p in a.params]}
                    for a in actions.values()],
    }
