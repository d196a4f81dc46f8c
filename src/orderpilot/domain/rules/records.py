"""Stored rules, versions, runs, attempts, tickets and templates, as frozen values.

Fields follow the columns of their tables in order (see ``domain/records.py``); a record with
extra joined values says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from orderpilot.domain.records import JsonObject


class StoredRule(NamedTuple):
    id: str
    key: str
    name: str
    status: str
    draft: JsonObject | None
    published_version: int | None
    template_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    row_version: int
    strikes: int


class RuleVersion(NamedTuple):
    rule_id: str
    version: int
    definition: JsonObject
    published_by: str
    published_at: datetime
    reason: str
    diff: JsonObject


class AuditEntry(NamedTuple):
    seq: int
    rule_id: str
    action: str
    actor: str
    at: datetime
    detail: JsonObject


class PublishedRule(NamedTuple):
    """An enabled rule with its published definition."""

    id: str
    key: str
    name: str
    published_version: int
    definition: JsonObject


class Run(NamedTuple):
    seq: int
    id: str
    rule_id: str
    rule_version: int
    dedupe_key: str
    trigger_kind: str
    event_id: str | None
    order_id: str | None
    status: str
    depth: int
    context: JsonObject
    trace: JsonObject
    step: int
    outputs: JsonObject
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None
    claimed_until: datetime | None
    last_error: str | None
    replay_of: str | None
    created_at: datetime
    event_recorded_at: datetime | None
    finished_at: datetime | None


class StepAttempt(NamedTuple):
    seq: int
    run_id: str
    step_no: int
    action: str
    attempt: int
    status: str
    idempotency_key: str
    request: JsonObject
    response: object
    latency_ms: float | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class OutsideAttempt(NamedTuple):
    """An outside call recorded before it went out (see ``adapters/tables_outside.py``)."""

    idempotency_key: str
    run_id: str
    step_no: int
    action: str
    status: str
    calls: int
    look_ups: int
    first_called_at: datetime
    last_called_at: datetime
    settled_at: datetime | None
    answer: JsonObject | None


class Ticket(NamedTuple):
    seq: int
    id: str
    order_id: str | None
    title: str
    body: str
    priority: str
    tags: list[str]
    status: str
    created_by: str
    idempotency_key: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class CustomerTag(NamedTuple):
    phone: str
    tag: str
    source: str
    created_at: datetime


class SmsTemplate(NamedTuple):
    code: str
    provider: str
    sign_name: str
    text: str
    params: list[str]
    created_at: datetime
