"""The return-centre register and the return policy, maintained by ops: each change checked
whole before anything is written."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.return_routing import (
    MAX_POLICY_ROWS,
    PolicyRow,
    ReturnCentre,
    ReturnPolicyInvalid,
    policy_rows,
    return_centre,
)
from orderpilot.domain.rules.problems import Problem, Problems
from orderpilot.domain.sheet_limits import SheetLimits
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UowFactory


def put_centre(uow_factory: UowFactory, clock: Clock, code: str, body: dict[str, Any],
               by: str) -> tuple[ReturnCentre, bool]:
    """Create or replace a return centre; (the centre, whether it is new)."""
    centre = return_centre(code, body)
    with uow_factory() as uow:
        before = uow.return_routing.centre(code)
        created = uow.return_routing.put_centre(centre, by, clock())
        audit_trail.record(uow, clock, "return_centre.put", subject_type="return_centre",
                           subject_id=centre.code,
                           before=before.dump() if before is not None else None,
                           after=centre.dump())
    return centre, created


def replace_policy(uow_factory: UowFactory, clock: Clock, rows: list[dict[str, Any]],
                   by: str, where: str = "rows") -> tuple[int, list[PolicyRow]]:
    """The policy table replaced as a new version; an outlet mapped twice or to an unknown
    centre refuses the whole table (ReturnPolicyInvalid naming the rows)."""
    with uow_factory() as uow:
        checked = policy_rows(rows, uow.return_routing.centre_codes(), where)
        version = uow.return_routing.replace_policy(checked, by, clock())
        audit_trail.record(uow, clock, "return_policy.replace", subject_type="return_policy",
                           subject_id=str(version), after={"version": version,
                                                           "rows": len(checked)})
    return version, checked


HEADERS = {"outlet_code": "outlet_code", "网点代码": "outlet_code", "网点": "outlet_code",
           "return_centre": "return_centre", "退货中心": "return_centre",
           "退货中心代码": "return_centre"}


def import_policy(uow_factory: UowFactory, clock: Clock, file_name: str, header: list[Any],
                  rows: list[tuple[int, tuple[Any, ...]]], by: str) -> tuple[int, int]:
    """A policy sheet (columns outlet_code / 网点代码 and return_centre / 退货中心) as a new
    version: (version, rows). Problems are named by file, row and column; nothing is written
    unless every row is right."""
    names = [HEADERS.get(str(h or "").strip().lower(), HEADERS.get(str(h or "").strip()))
             for h in header]
    problems = Problems()
    for needed in ("outlet_code", "return_centre"):
        if needed not in names:
            problems.add(f"{file_name}: header", f"the sheet has no {needed} column",
                         f"表格缺少 {needed} 列")
    if problems:
        raise ReturnPolicyInvalid(problems.items, "the return policy", zh="退货政策")
    body = [{n: ("" if v is None else str(v).strip()) for n, v in zip(names, cells, strict=False)
             if n is not None} for _, cells in rows]
    try:
        version, kept = replace_policy(uow_factory, clock, body, by)
    except ReturnPolicyInvalid as error:
        raise ReturnPolicyInvalid([_by_row(p, file_name, rows) for p in error.problems],
                                  "the return policy", zh="退货政策") from error
    return version, len(kept)


def _by_row(problem: Problem, file_name: str, rows: list[tuple[int, tuple[Any, ...]]]) -> Problem:
    """``rows[3].outlet_code`` -> ``policy.xlsx row 5 outlet_code`` (the row Excel shows)."""
    head, _, column = problem.field.partition(".")
    index = head.removeprefix("rows[").removesuffix("]")
    if index.isdigit() and int(index) < len(rows):
        where = f"{file_name} row {rows[int(index)][0]}" + (f" {column}" if column else "")
        return Problem(where, problem.message, problem.zh)
    return Problem(f"{file_name}: {problem.field}", problem.message, problem.zh)


SHEET_LIMITS = SheetLimits(max_rows=MAX_POLICY_ROWS, max_columns=20,
                           max_file_bytes=5 * 1024 * 1024, max_unzipped_bytes=32 * 2**20)
