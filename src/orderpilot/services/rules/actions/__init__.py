"""Rule actions as a table of modules: one module per action (its definition, effect or
outside call, look-up, save-time checks and flags), gathered in ``ActionTable``.

A new action is one module exporting a ``RuleAction``; built-in ones are listed in
``table.BUILT_IN``, others come in through ``ActionTable(extra=...)``.
"""

from orderpilot.services.rules.actions.base import (
    Answer,
    Found,
    Output,
    Outside,
    Params,
    RuleAction,
    SentMessage,
    StepCall,
    StepRefused,
    jsonable,
    render,
    step_outputs,
)
from orderpilot.services.rules.actions.table import BUILT_IN, ActionTable, UnknownAction

__all__ = ["BUILT_IN", "ActionTable", "Answer", "Found", "Outside", "Output", "Params",
           "RuleAction", "SentMessage", "StepCall", "StepRefused", "UnknownAction", "jsonable",
           "render", "step_outputs"]
