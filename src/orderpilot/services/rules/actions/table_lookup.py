"""table.lookup: look up a decision table with the run's context; its outputs become the
step's. Reads only."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import Output, RuleAction, StepCall, TableLookup

TYPE = ActionType("table.lookup", "查决策表", "Look up a decision table", (
    param("table", "table", "决策表", "Decision table", required=True),),
    external=False, internal=False, default_step_id="lookup")


def look_up(tables: TableLookup, call: StepCall) -> tuple[dict[str, Any], Output]:
    """(what run history shows, the step's outputs)."""
    result = tables(call.params["table"], call.context)
    output = result.output if isinstance(result.output, dict) else {"rows": result.output}
    return {"version": result.version, "matched_rows": result.matched, **output}, output


ACTION = RuleAction(TYPE, read=look_up)
