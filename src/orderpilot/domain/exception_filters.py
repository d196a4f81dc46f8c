"""What the exception queue may be filtered by: one shape for the API, the console and saved
filters ("my queue", "overdue", a person's own). Read from query-string texts (``parse``) and
written back (``as_query``), so a saved filter is the same filter the queue used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.exceptions import KINDS, OWNERS, STATUSES

CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,80}$")
MAX_TEXT = 100
STATUS_CHOICES = ("active", *STATUSES, "all")  # active = open or decision required
FLAGS = ("mine", "overdue")


@dataclass(frozen=True)
class ExceptionFilter:
    kind: str = ""
    reason: str = ""
    status: str = "active"
    owner: str = ""        # the owner role
    assignee: str = ""
    mine: bool = False     # assigned to the person asking
    overdue: bool = False  # past its due time and not resolved
    order_id: str = ""
    q: str = ""            # order number, order id or subject ref

    def as_query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is False or value == "" or (f.name == "status" and value == "active"):
                continue
            out[f.name] = "yes" if value is True else str(value)
        return out


def _bad(name: str, en: str, zh: str) -> InvalidInput:
    return InvalidInput(f"{name}: {en}", field=name, zh=f"{name}：{zh}")


def _flag(name: str, value: str) -> bool:
    if value in ("", "no", "false", "0"):
        return False
    if value in ("yes", "true", "1"):
        return True
    raise _bad(name, "give yes or no", "应为 yes 或 no")


def parse(query: Mapping[str, str]) -> ExceptionFilter:
    """A filter from query-string texts; every problem names its field."""
    kind, reason = query.get("kind", ""), query.get("reason", "")
    status, owner = query.get("status", "") or "active", query.get("owner", "")
    if kind and kind not in KINDS:
        raise _bad("kind", f"one of {', '.join(KINDS)}", f"应为 {', '.join(KINDS)} 之一")
    if reason and not CODE.match(reason):
        raise _bad("reason", "a reason code", "应为原因代码")
    if status not in STATUS_CHOICES:
        raise _bad("status", f"one of {', '.join(STATUS_CHOICES)}",
                   f"应为 {', '.join(STATUS_CHOICES)} 之一")
    if owner and owner not in OWNERS:
        raise _bad("owner", f"one of {', '.join(OWNERS)}", f"应为 {', '.join(OWNERS)} 之一")
    texts = {name: query.get(name, "").strip() for name in ("assignee", "order_id", "q")}
    for name, value in texts.items():
        if len(value) > MAX_TEXT:
            raise _bad(name, f"at most {MAX_TEXT} characters", f"最多 {MAX_TEXT} 个字符")
    return ExceptionFilter(kind, reason, status, owner, texts["assignee"],
                           _flag("mine", query.get("mine", "")),
                           _flag("overdue", query.get("overdue", "")), texts["order_id"],
                           texts["q"])
