"""The audit trail of human actions (issue 14): who did what, in which role, when, through which
door (API, console, CLI), to what, and how it looked before and after.

A person's action is recorded in the same transaction as the change it made; the trail is
append-only (no update, no delete: the database refuses both). Systems reporting what happened
(a WMS callback, a channel push, an API token scoped to a source) are not people and are not
recorded here: the trail is what feeds the manual-intervention rate (S12b)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

VIAS = ("api", "console", "cli")
VIA_NAMES = {"api": ("接口", "API"), "console": ("控制台", "Console"), "cli": ("命令行", "CLI")}
ACTOR_KINDS = ("user", "token", "cli")


@dataclass(frozen=True)
class Actor:
    """A person acting: a console user, a person's API token, an operator at the CLI."""

    name: str
    role: str
    kind: str  # user | token | cli
    via: str  # api | console | cli
    id: str = ""

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {VIAS}, not {self.via!r}")
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"kind must be one of {ACTOR_KINDS}, not {self.kind!r}")


class AuditEntry(NamedTuple):
    """One stored entry, in column order (adapters/tables_audit_log.py)."""

    seq: int | None
    at: datetime
    actor: str
    actor_id: str
    role: str
    actor_kind: str
    via: str
    action: str  # dotted code, e.g. hold.release, user.create, exception.assign, request
    subject_type: str  # order | hold | user | token | exception | return | rule | request ...
    subject_id: str
    order_id: str | None  # the order the action touched, when it touched one
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None  # anything else: the route and status of a request, a note
