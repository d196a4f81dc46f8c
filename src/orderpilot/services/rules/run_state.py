"""Where a rule run is: the main step, or a position in a step's failure branch or outcome
branch; the outputs of the steps done so far; and writing that progress together with a
step's effect.

Branch positions are kept in the run's outputs: ``_branch`` ({"of", "pos"} and, for an outcome
branch, "outcome") while in one, and ``_branches`` lists every branch the run took (what run
history shows). A failure branch ends the run; an outcome branch goes back to the main line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from orderpilot.domain.rules.definition import RuleDefinition, Step
from orderpilot.domain.rules.records import Run
from orderpilot.services.rules.book import Expressions
from orderpilot.services.unit_of_work import Clock, UnitOfWork


class Snapshot(TypedDict):
    step: int
    outputs: dict[str, object]
    attempts: int


class RunState:
    """Where a run is: the main step index, or a position inside a step's failure branch."""

    def __init__(self, run: Run, rule_key: str, definition: RuleDefinition, engine: Expressions,
                 clock: Clock) -> None:
        self.run = run
        self.rule_key = rule_key
        self.definition = definition
        self.engine = engine
        self.clock = clock
        self.step: int = run.step
        self.outputs: dict[str, object] = dict(run.outputs or {})
        self.attempts: int = run.attempts
        self.root_id: str = run.replay_of or run.id
        self.finished = False

    @property
    def in_branch(self) -> bool:
        return "_branch" in self.outputs

    def _branch(self) -> tuple[int, int, str | None] | None:
        """(the step, the position in its branch, the outcome or None for the failure
        branch) while in a branch."""
        branch = self.outputs.get("_branch")
        if not isinstance(branch, dict):
            return None
        outcome = branch.get("outcome")
        return int(branch["of"]), int(branch["pos"]), str(outcome) if outcome else None

    def _outcome_steps(self, of: int, outcome: str) -> tuple[int, tuple[Step, ...]]:
        branches = self.definition.actions[of].on_outcome
        k = next(i for i, b in enumerate(branches) if b.outcome.id == outcome)
        return k, branches[k].steps

    def current(self) -> tuple[Step | None, int]:
        actions = self.definition.actions
        branch = self._branch()
        if branch is not None:
            of, pos, outcome = branch
            if outcome is not None:
                k, steps = self._outcome_steps(of, outcome)
                return steps[pos], 100_000 * (k + 1) + 1000 * (of + 1) + pos
            failure = actions[of].on_error.branch
            return (failure[pos] if pos < len(failure) else None), 1000 * (of + 1) + pos
        return (actions[self.step] if self.step < len(actions) else None), self.step

    def context(self) -> dict[str, object]:
        context = dict(self.run.context)
        context["steps"] = {k: v for k, v in self.outputs.items() if not k.startswith("_")}
        context["run"] = {"id": self.run.id, "rule": self.rule_key}
        return context

    def snapshot(self) -> Snapshot:
        return {"step": self.step, "outputs": dict(self.outputs), "attempts": self.attempts}

    def restore(self, before: Snapshot) -> None:
        """Back to ``before``, keeping the hub parts of hybrid steps (committed on their own)."""
        hub_parts = {k: v for k, v in self.outputs.items() if k.endswith("_hub")}
        self.step, self.attempts = before["step"], before["attempts"]
        self.outputs = {**before["outputs"], **hub_parts}
        self.finished = False

    def skip(self, step: Step) -> None:
        self._next(step, {"skipped": True})

    def _next(self, step: Step, output: Mapping[str, object] | None) -> Snapshot:
        if output is not None:
            self.outputs[step.id] = output
        self.outputs.pop(f"_{step.id}_hub", None)
        branch = self._branch()
        if branch is not None:
            of, pos, outcome = branch
            if outcome is not None and pos + 1 >= len(self._outcome_steps(of, outcome)[1]):
                del self.outputs["_branch"]  # back on the main line, at the step after OF
            else:
                self.outputs["_branch"] = {"of": of, "pos": pos + 1} if outcome is None \
                    else {"of": of, "pos": pos + 1, "outcome": outcome}
        else:
            self.step += 1
            self._take_outcome(step, output)
        self.attempts = 0
        return self.snapshot()

    def _take_outcome(self, step: Step, output: Mapping[str, object] | None) -> None:
        """Enter the branch of the first outcome of STEP that its output shows."""
        for taken in step.on_outcome:
            if taken.outcome.holds(output):
                self.outputs["_branch"] = {"of": self.step - 1, "pos": 0,
                                           "outcome": taken.outcome.id}
                self._taken({"step": step.id, "kind": "outcome",
                             "outcome": taken.outcome.id, "zh": taken.outcome.zh,
                             "en": taken.outcome.en})
                return

    def _taken(self, branch: dict[str, object]) -> None:
        taken = self.outputs.get("_branches")
        self.outputs["_branches"] = [*(taken if isinstance(taken, list) else []), branch]

    def advance_in(self, uow: UnitOfWork, step: Step, output: Mapping[str, object] | None,
                   worker: str) -> None:
        """Store the step's progress; steps after it whose `if` is already false are skipped
        and, when none is left, the run is finished, all in the same write."""
        values: Mapping[str, object] = self._next(step, output)
        while True:
            following, _where = self.current()
            if following is None:
                self.finished = True
                values = {**self.snapshot(), "status": "succeeded",
                          "finished_at": self.clock(), "claimed_by": None,
                          "claimed_until": None}
                break
            if not following.when.children:
                break
            try:
                go = self.engine.evaluate(following.when.expression, self.context()) is True
            except Exception:  # the main loop reports it as the step's failure
                break
            if go:
                break
            values = self._next(following, {"skipped": True})
        if not uow.runs.update(self.run.id, worker, **values):
            raise RuntimeError("the run's lease was lost; another worker took it over")

    def enter_branch(self, uow: UnitOfWork, step: Step, error: str, worker: str) -> None:
        self.outputs[step.id] = {"error": error}
        self.outputs["_branch"] = {"of": self.step, "pos": 0}
        self._taken({"step": step.id, "kind": "on_error"})
        self.attempts = 0
        uow.runs.update(self.run.id, worker, outputs=self.outputs, attempts=0,
                        last_error=error[:4000])
