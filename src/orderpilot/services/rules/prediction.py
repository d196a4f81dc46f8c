"""What a rule would do on one matched order, step by step, without doing it: each step's
`if` is evaluated on the outputs predicted so far, and an outcome branch is taken when the
step's predicted answer shows the outcome. Only actions that declare a ``predict`` (a query
that changes nothing at the provider, such as the customs qualification check) are asked;
other steps' outputs are unknown, so `if`s and branches that depend on them count as not
taken and the run counts as ``unknown``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.rules.definition import RuleDefinition, Step
from orderpilot.services.rules import actions as acts
from orderpilot.services.rules.book import Expressions

MAX_PREDICTIONS = 500  # outside queries one backtest may make


@dataclass
class Tally:
    actions: Counter[str] = field(default_factory=Counter)  # action type -> times it would run
    steps: Counter[tuple[str, str, str | None]] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # "check.not_qualified" -> runs
    unknown: int = 0  # runs with a step whose answer could not be predicted
    queries: int = 0

    def dump(self, types: dict[str, tuple[str, str]]) -> dict[str, Any]:
        return {"actions": dict(self.actions), "outcomes": dict(self.outcomes),
                "unknown": self.unknown,
                "steps": [{"id": step, "type": kind, "zh": types.get(kind, (kind, kind))[0],
                           "en": types.get(kind, (kind, kind))[1], "branch": branch,
                           "count": n} for (step, kind, branch), n in self.steps.items()]}


# (step, rendered call) -> the step's outputs, or None when they cannot be known
Predict = Callable[[Step, acts.StepCall], dict[str, Any] | None]


def predictor(actions: acts.ActionTable, outside: acts.Outside | None,
              tally: Tally) -> Predict:
    """Asks the provider for actions that declare a side-effect-free ``predict``, up to
    MAX_PREDICTIONS times a backtest."""
    def predict(step: Step, call: acts.StepCall) -> dict[str, Any] | None:
        action = actions.get(step.type) if step.type in actions else None
        if action is None or action.predict is None or outside is None \
                or tally.queries >= MAX_PREDICTIONS:
            return None
        tally.queries += 1
        try:
            answer = action.predict(outside, call, {}, None)
        except OrderpilotError:  # unreachable or refused: unknown, not a guess
            return None
        return acts.step_outputs(action.type, step, answer, action.outputs)
    return predict


def walk(definition: RuleDefinition, context: dict[str, Any], engine: Expressions,
         predict: Predict, tally: Tally, key: str) -> None:
    """Count what the rule would do on CONTEXT (a matched order) into TALLY."""
    outputs: dict[str, Any] = {}
    unknown = False
    read_later = _read_later(definition)
    for step in definition.actions:
        ran, answer = _one(step, context, outputs, engine, predict, tally, key, None)
        if not ran:
            continue
        if answer is None and (step.on_outcome or step.id in read_later):
            unknown = True
            continue
        for branch in step.on_outcome:
            if branch.outcome.holds(answer):
                label = f"{step.id}.{branch.outcome.id}"
                tally.outcomes[label] += 1
                for inner in branch.steps:
                    _one(inner, context, outputs, engine, predict, tally, key, label)
                break
    if unknown:
        tally.unknown += 1


def _read_later(definition: RuleDefinition) -> set[str]:
    """The steps whose outputs some step's `if` reads."""
    return {leaf.field.path.split(".")[1] for step in definition.all_steps()
            for leaf in step.when.leaves() if leaf.field.path.startswith("steps.")}


def _one(step: Step, context: dict[str, Any], outputs: dict[str, Any], engine: Expressions,
         predict: Predict, tally: Tally, key: str,
         branch: str | None) -> tuple[bool, dict[str, Any] | None]:
    here = {**context, "steps": dict(outputs)}
    if step.when.children:
        try:
            go = engine.evaluate(step.when.expression, here) is True
        except Exception:  # an `if` on an unknown output: not counted as running
            go = False
        if not go:
            outputs[step.id] = {"skipped": True}
            return False, None
    tally.actions[step.type] += 1
    tally.steps[(step.id, step.type, branch)] += 1
    try:
        params = acts.render(engine, step.params, here)
    except Exception:
        outputs[step.id] = {}
        return True, None
    answer = predict(step, acts.StepCall("backtest", "backtest", None, params,
                                         f"backtest:{key}:{step.id}", here))
    outputs[step.id] = answer if answer is not None else {}
    return True, answer
