"""What storage hands the service layer besides aggregates: stored rows as immutable values.

Each record's fields are its table's columns, in the table's order (a unit test compares
them), so the adapters build one straight from a row and a renamed column fails the test and
``mypy --strict`` instead of a page at run time. Records are NamedTuples: building one costs a
tenth of a frozen dataclass, which matters on the paths that read many rows. JSON columns are
``JsonObject`` (an object read from JSON: narrow a value before using it) or ``object`` when
any JSON value may be stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

JsonObject = dict[str, object]


class Claim(NamedTuple):
    """A leased outbox, timer or run row: ``seq`` orders them (a timer's is its id)."""

    seq: int | str
    item_id: str
    attempts: int


class TimerRecord(NamedTuple):
    id: str
    key: str
    kind: str
    order_id: str | None
    fire_at: datetime
    payload: JsonObject
    status: str
    attempts: int
    claimed_by: str | None
    claimed_until: datetime | None
    last_error: str | None
    created_at: datetime
    fired_at: datetime | None


class ExistingOrder(NamedTuple):
    """The order a request already made (found by idempotency key or channel reference)."""

    id: str
    idempotency_key: str | None
    request_hash: str | None


class User(NamedTuple):
    id: str
    username: str
    display_name: str
    role: str
    password_hash: str
    locale: str
    disabled: bool
    created_at: datetime
    password_temporary: bool = False


class ApiToken(NamedTuple):
    id: str
    name: str
    role: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None
    scopes: str


def text(data: Mapping[str, object], key: str) -> str:
    """``data[key]``, which must be text (an id, a code or an ISO time in stored JSON)."""
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is {type(value).__name__}, not text")
    return value


def text_or_none(data: Mapping[str, object], key: str) -> str | None:
    """``data.get(key)``, which must be text or missing/null."""
    value = data.get(key)
    return None if value is None else text(data, key)


def whole(data: Mapping[str, object], key: str) -> int:
    """``data[key]``, which must be a whole number."""
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} is {type(value).__name__}, not a whole number")
    return value
