"""People's commands on one exception: assign (or unassign), comment, resolve by hand. Each
writes the exception's history and the audit trail (with the order, so it counts as a manual
intervention, S12b) in one transaction."""

from __future__ import annotations

from typing import NamedTuple

from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.exceptions import (
    MAX_COMMENT,
    CommentRecord,
    ExceptionRecord,
    HistoryRecord,
)
from orderpilot.services import audit_trail
from orderpilot.services.exceptions.feed import resolve_in
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_ASSIGNEE = 100


class ExceptionDetail(NamedTuple):
    exception: ExceptionRecord
    comments: list[CommentRecord]
    history: list[HistoryRecord]


def load(uow: UnitOfWork, exception_id: str, *, for_update: bool = False) -> ExceptionRecord:
    record = uow.exceptions.get(exception_id, for_update=for_update)
    if record is None:
        raise NotFound(f"no exception {exception_id}", field="id", code="exception_not_found",
                       zh=f"没有异常 {exception_id}")
    return record


def detail(uow_factory: UowFactory, exception_id: str) -> ExceptionDetail:
    with uow_factory() as uow:
        record = load(uow, exception_id)
        return ExceptionDetail(record, uow.exceptions.comments(exception_id),
                               uow.exceptions.history(exception_id))


def assign_in(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, assignee: str,
              by: str) -> bool:
    """Give the exception to ASSIGNEE ("" unassigns); the same assignee changes nothing."""
    assignee = assignee.strip()
    if len(assignee) > MAX_ASSIGNEE:
        raise InvalidInput(f"assignee: at most {MAX_ASSIGNEE} characters", field="assignee",
                           zh=f"assignee：最多 {MAX_ASSIGNEE} 个字符")
    if assignee == record.assignee:
        return False
    now = clock()
    uow.exceptions.update(record.id, assignee=assignee)
    uow.exceptions.log(HistoryRecord(None, record.id, now, by, "assigned",
                                     {"assignee": record.assignee}, {"assignee": assignee}))
    audit_trail.record(uow, clock, "exception.assign", subject_type="exception",
                       subject_id=record.id, order_id=record.order_id,
                       before={"assignee": record.assignee}, after={"assignee": assignee})
    return True


def assign(uow_factory: UowFactory, clock: Clock, exception_id: str, assignee: str,
           by: str) -> ExceptionRecord:
    def attempt() -> ExceptionRecord:
        with uow_factory() as uow:
            assign_in(uow, clock, load(uow, exception_id, for_update=True), assignee, by)
            return load(uow, exception_id)
    return retrying(attempt)


def comment(uow_factory: UowFactory, clock: Clock, exception_id: str, text: str,
            by: str) -> CommentRecord:
    text = text.strip()
    if not text:
        raise InvalidInput("text: write the comment", field="text", zh="text：请填写评论内容")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"text: at most {MAX_COMMENT} characters", field="text",
                           zh=f"text：最多 {MAX_COMMENT} 个字符")

    def attempt() -> CommentRecord:
        with uow_factory() as uow:
            record = load(uow, exception_id, for_update=True)
            now = clock()
            seq = uow.exceptions.comment(CommentRecord(None, record.id, now, by, text))
            uow.exceptions.log(HistoryRecord(None, record.id, now, by, "commented", None,
                                             {"comment": seq}))
            audit_trail.record(uow, clock, "exception.comment", subject_type="exception",
                               subject_id=record.id, order_id=record.order_id,
                               after={"text": text})
            return CommentRecord(seq, record.id, now, by, text)
    return retrying(attempt)


def resolve_by_hand_in(uow: UnitOfWork, clock: Clock, record: ExceptionRecord,
                       by: str) -> bool:
    if not resolve_in(uow, record, "by_hand", by, clock()):
        return False
    audit_trail.record(uow, clock, "exception.resolve", subject_type="exception",
                       subject_id=record.id, order_id=record.order_id,
                       before={"status": record.status},
                       after={"status": "resolved", "resolution": "by_hand"})
    return True


def resolve(uow_factory: UowFactory, clock: Clock, exception_id: str,
            by: str) -> ExceptionRecord:
    def attempt() -> ExceptionRecord:
        with uow_factory() as uow:
            resolve_by_hand_in(uow, clock, load(uow, exception_id, for_update=True), by)
            return load(uow, exception_id)
    return retrying(attempt)
