"""One rule run as the run page shows it, in the user's language: each condition and each
step's `if` as a row (field, operator, expected, actual, result), each step with its action's
name, what became of it and the branch it ran in, and every attempt with its request and
response. Plain data from the stored run and the version it ran on; no web framework here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.rules.views import BuilderCatalogue

# Where a step's attempts are numbered: 0.. on the main path, 1000 * (n + 1) + i for the
# i-th step of step n's failure branch, 100000 * (k + 1) + 1000 * (n + 1) + i in the branch
# on its k-th outcome (services/rules/run_state.py).
BRANCH_BASE = 1000
OUTCOME_BASE = 100_000
STEP_STATES = {"done": N_("Done"), "skipped": N_("Skipped: its condition did not hold"),
               "failed": N_("Failed"), "ignored": N_("Failed, ignored"),
               "waiting": N_("Not reached yet"), "not_reached": N_("Not reached"),
               "not_taken": N_("Branch not taken")}
PATHS = {"main": N_("Main path"), "failure": N_("On failure of step %(n)s"),
         "outcome": N_("Step %(n)s: if %(outcome)s")}


@dataclass
class ConditionRow:
    """One line of the conditions table."""

    where: str  # "conditions" or the step's number
    field: str
    op: str
    expected: str
    actual: str
    result: bool | None  # None: not evaluated (the step was not reached)


@dataclass
class StepRow:
    number: str  # "2", or "1.1" inside a branch
    id: str
    action: str  # the action's name in the user's language
    state: str  # a STEP_STATES key
    path: str  # the branch it belongs to, in words
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _yes_no(cat: BuilderCatalogue, value: Any) -> str | None:
    if isinstance(value, bool):
        return cat.text("yes") if value else cat.text("no")
    return None


def show_value(cat: BuilderCatalogue, path: str, value: Any) -> str:
    """A value in words: a choice's label, 是/否 for a yes/no, "—" for nothing."""
    yes_no = _yes_no(cat, value)
    if yes_no is not None:
        return yes_no
    if isinstance(value, str) and value.startswith("error: "):
        return cat.text(N_("could not be read"))
    if value is None or value == [] or value == "":
        return "—"
    return cat.value_label(path, value)


def condition_rows(cat: BuilderCatalogue, leaves: list[dict[str, Any]]) -> list[ConditionRow]:
    return [ConditionRow(cat.text("Conditions"), field_label(cat, leaf["field"]),
                         cat.op_label(leaf["op"]), _expected(cat, leaf), _seen(cat, leaf),
                         bool(leaf.get("result")))
            for leaf in leaves]


def _expected(cat: BuilderCatalogue, leaf: dict[str, Any]) -> str:
    if leaf.get("value") is None:
        return "—"
    shown = show_value(cat, leaf["field"], leaf["value"])
    return f"{shown} {leaf['currency']}" if leaf.get("currency") else shown


def _seen(cat: BuilderCatalogue, leaf: dict[str, Any]) -> str:
    """The value the rule saw; an amount in the condition's currency, with its conversion."""
    if leaf.get("note"):
        return str(leaf.get("note_zh") if cat.zh else leaf["note"])
    shown = show_value(cat, leaf["field"], leaf.get("actual"))
    if not leaf.get("currency") or shown == "—":
        return shown
    shown = f"{shown} {leaf['currency']}"
    if leaf.get("converted_from"):
        shown += " " + cat.text(N_("(from %(code)s at %(rate)s)")) % {
            "code": leaf["converted_from"], "rate": leaf.get("rate")}
    return shown


def field_label(cat: BuilderCatalogue, path: str, steps: dict[str, str] | None = None) -> str:
    """A field in words; a step output ("steps.check.qualified") as the step's action and the
    output's declared name."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "steps":
        action = (steps or {}).get(parts[1], "")
        return cat.text(N_("%(action)s (step %(id)s): %(output)s")) % {
            "action": cat.action_label(action) if action else parts[1], "id": parts[1],
            "output": output_label(cat, action, parts[2])}
    return cat.field_label(path)


def output_label(cat: BuilderCatalogue, action: str, name: str) -> str:
    return cat.output_label(action, name)


def _leaves(raw: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(raw, dict):
        return
    for key in ("all", "any"):
        for item in raw.get(key) or []:
            if isinstance(item, dict) and ("all" in item or "any" in item):
                yield from _leaves(item)
            elif isinstance(item, dict):
                yield item


def _actual(outputs: dict[str, Any], context: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    here: Any = {"steps": outputs, **context}
    for part in parts:
        if not isinstance(here, dict) or part not in here:
            return None
        here = here[part]
    return here


def _holds(op: str, actual: Any, value: Any) -> bool | None:
    """A step `if` leaf's result where it is plain to tell; None otherwise."""
    tests: dict[str, Any] = {
        "is_true": lambda: actual is True, "is_false": lambda: actual is False,
        "eq": lambda: actual == value, "ne": lambda: actual != value,
        "is_empty": lambda: actual in (None, "", []),
        "not_empty": lambda: actual not in (None, "", [])}
    test = tests.get(op)
    return None if test is None else bool(test())


def _walk(definition: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any], str, str]]:
    """Every step with its number, its attempts' step_no, its path and the outcome whose
    branch it is in ("" elsewhere)."""
    for n, step in enumerate(definition.get("actions") or []):
        yield str(n + 1), n, step, "main", ""
        on_error = step.get("on_error") or {}
        for i, inner in enumerate(on_error.get("branch") or []):
            yield f"{n + 1}.{i + 1}", BRANCH_BASE * (n + 1) + i, inner, "failure", ""
        position = 0
        for k, (outcome, steps) in enumerate((step.get("on_outcome") or {}).items()):
            for i, inner in enumerate(steps or []):
                position += 1
                yield (f"{n + 1}.{position}", OUTCOME_BASE * (k + 1) + BRANCH_BASE * (n + 1) + i,
                       inner, "outcome", str(outcome))


def step_rows(cat: BuilderCatalogue, run: dict[str, Any],
              definition: dict[str, Any] | None) -> tuple[list[StepRow], list[ConditionRow]]:
    """Each step of the version the run ran on, and the rows of the steps' `if`s."""
    if not definition:
        return [], []
    outputs: dict[str, Any] = run.get("outputs") or {}
    context: dict[str, Any] = run.get("context") or {}
    by_step: dict[int, list[dict[str, Any]]] = {}
    for attempt in run.get("attempts_detail") or []:
        by_step.setdefault(attempt["step_no"], []).append(attempt)
    kinds = {s.get("id", ""): s.get("type", "") for _n, _w, s, _p, _o in _walk(definition)}
    taken = {(str(b.get("step")), str(b.get("outcome"))) for b in run.get("branches") or []
             if b.get("kind") == "outcome"}
    steps: list[StepRow] = []
    rows: list[ConditionRow] = []
    parents = {str(n + 1): s for n, s in enumerate(definition.get("actions") or [])}
    for number, where, step, path, outcome in _walk(definition):
        attempts = by_step.get(where, [])
        output = outputs.get(step.get("id", ""))
        state = _state(run, output, attempts, where, path)
        parent = parents.get(number.split(".")[0], {})
        if path == "outcome" and state == "not_reached" and \
                (str(parent.get("id")), outcome) not in taken:
            state = "not_taken"
        words = cat.text(PATHS[path])
        if path != "main":
            words %= {"n": number.split(".")[0],
                      "outcome": cat.outcome_label(str(parent.get("type", "")), outcome)}
        steps.append(StepRow(number, step.get("id", ""), cat.action_label(step.get("type", "")),
                             state, words, attempts))
        for leaf in _leaves(step.get("if")):
            reached = state not in ("waiting", "not_reached")
            actual = _actual(outputs, context, str(leaf.get("field", "")))
            result = _holds(str(leaf.get("op")), actual, leaf.get("value")) if reached \
                else None
            if result is None and reached:
                result = state != "skipped"
            rows.append(ConditionRow(
                cat.text(N_("Step %(n)s")) % {"n": number},
                field_label(cat, str(leaf.get("field", "")), kinds),
                _op_label(cat, str(leaf.get("op", ""))),
                "—" if leaf.get("value") is None else show_value(cat, "", leaf["value"]),
                show_value(cat, "", actual) if reached else "—", result))
    return steps, rows


def _op_label(cat: BuilderCatalogue, op: str) -> str:
    if op == "is_true":
        return cat.text("is yes")
    if op == "is_false":
        return cat.text("is no")
    return cat.op_label(op)


def _state(run: dict[str, Any], output: Any, attempts: list[dict[str, Any]], where: int,
           path: str) -> str:
    if isinstance(output, dict) and output.get("skipped"):
        return "skipped"
    if attempts and attempts[-1]["status"] == "ignored":
        return "ignored"
    if any(a["status"] == "ok" for a in attempts) or (output is not None and path == "main"
                                                        and "error" not in output):
        return "done"
    if attempts or (isinstance(output, dict) and "error" in output):
        return "failed"
    return "waiting" if run.get("status") == "pending" else "not_reached"
