"""Reading what Kingdee answers, defensively (the shapes and their sources: client.py).

``IsSuccess`` may come as a bool or as text, lists may be missing, a failed query wraps its
ResponseStatus in lists: nothing here trusts a shape it did not check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from orderpilot.domain.erp import BOOKED, FAILED, UNKNOWN, BillResult
from orderpilot.domain.errors import PermanentError
from orderpilot.domain.times import SHANGHAI

SESSION_LOST = "会话信息已丢失"
# Kingdee's own words for a bill number that is taken (not verified from a public source:
# matched loosely, and confirmed by a look-up before the hub believes it).
DUPLICATE_WORDS = ("已存在", "已经存在", "重复")


def is_success(value: object) -> bool:
    """``IsSuccess`` as sent: true, "true", "True", 1 mean yes; anything else means no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


def response_status(answer: object) -> dict[str, Any]:
    """``Result.ResponseStatus`` wherever it is (a dict, or wrapped in lists as a failed
    query sends it); {} when there is none."""
    while isinstance(answer, list) and answer:
        answer = answer[0]
    if not isinstance(answer, dict):
        return {}
    result = answer.get("Result")
    status = result.get("ResponseStatus") if isinstance(result, dict) else None
    return status if isinstance(status, dict) else {}


def _entries(status: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = status.get(key)
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def session_lost(answer: object) -> bool:
    status = response_status(answer)
    if not status or is_success(status.get("IsSuccess")):
        return False
    return str(status.get("MsgCode")) == "1" or any(
        SESSION_LOST in str(e.get("Message", "")) for e in _entries(status, "Errors"))


def errors_text(status: dict[str, Any]) -> str:
    texts = [str(e.get("Message") or "").strip() for e in _entries(status, "Errors")]
    return "; ".join(t for t in texts if t) or f"IsSuccess {status.get('IsSuccess')!r}"


def _index(entry: dict[str, Any]) -> int | None:
    try:
        return int(entry["DIndex"])
    except (KeyError, TypeError, ValueError):
        return None


def bill_results(bill_nos: Sequence[str], answer: object) -> list[BillResult]:
    """One result per bill of a BatchSave, read defensively: a bill named (by Number or
    DIndex) in SuccessEntitys is booked, one with an error of its DIndex failed, one the
    answer does not name is unknown; an answer that is no ResponseStatus at all leaves every
    bill unknown."""
    status = response_status(answer)
    if not status:
        return [BillResult(n, UNKNOWN, error="the answer has no Result.ResponseStatus")
                for n in bill_nos]
    booked: dict[str, str] = {}
    for entry in _entries(status, "SuccessEntitys"):
        number, at = entry.get("Number"), _index(entry)
        if number in bill_nos:
            booked[str(number)] = str(entry.get("Id") or "")
        elif at is not None and 0 <= at < len(bill_nos):
            booked[bill_nos[at]] = str(entry.get("Id") or "")
    failed: dict[str, list[str]] = {}
    whole: list[str] = []
    for entry in _entries(status, "Errors"):
        message = str(entry.get("Message") or "").strip() or "refused without a message"
        if entry.get("FieldName"):
            message = f"{entry['FieldName']}: {message}"
        at = _index(entry)
        named = next((n for n in bill_nos if n and n in message), None)
        if named is None and at is not None and 0 <= at < len(bill_nos):
            named = bill_nos[at]
        if named is None:
            whole.append(message)
        else:
            failed.setdefault(named, []).append(message)
    success = is_success(status.get("IsSuccess"))
    results = []
    for number in bill_nos:
        if number in booked:
            results.append(BillResult(number, BOOKED, erp_id=booked[number] or None))
        elif number in failed:
            text = "; ".join(failed[number])
            results.append(BillResult(number, FAILED, error=text, duplicate=any(
                w in text for w in DUPLICATE_WORDS)))
        elif whole and not success:
            results.append(BillResult(number, FAILED, error="; ".join(whole),
                                      transient=_transient(status)))
        else:
            results.append(BillResult(number, UNKNOWN,
                                      error="the answer does not name this bill"))
    return results


def _transient(status: dict[str, Any]) -> bool:
    """A whole-batch refusal worth trying again: Kingdee's generic server error (ErrorCode
    500 with a lock or time-out message); anything else is a data problem."""
    text = errors_text(status).lower()
    return any(w in text for w in ("timeout", "超时", "锁", "lock", "busy", "繁忙"))


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def kingdee_time(value: object, field: str) -> datetime:
    """A Kingdee date-time (zone-less, server time = China time) as an aware time."""
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace(" ", "T"))
    except ValueError:
        raise PermanentError(f"Kingdee sent {field} {str(value)[:40]!r}, not a date-time",
                             zh=f"金蝶返回的 {field} 不是日期时间：{str(value)[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


__all__ = ["bill_results", "errors_text", "is_success", "kingdee_time", "quoted",
           "response_status", "session_lost"]
