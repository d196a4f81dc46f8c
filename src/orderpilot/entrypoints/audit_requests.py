"""A walkthrough request read from the API's JSON body or the CLI's options, checked the same
way: every problem refused with its field, in Chinese and English."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from orderpilot.domain import walkthrough as walk
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import SHANGHAI, filter_time

KNOWN = frozenset({"sample", "seed", "since", "until"})


def time_of(value: Any, field: str) -> datetime | None:
    """An ISO 8601 time with its offset (a bare date is midnight in Beijing), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00+08:00",
                           field=field, zh=f"{field} 应为 ISO 8601 时间，如 "
                                             "2026-11-01T00:00:00+08:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} is not a time: {value[:40]!r}; e.g. "
                           "2026-11-01T00:00:00+08:00", field=field,
                           zh=f"{field} 不是时间：{value[:40]!r}；如 2026-11-01T00:00:00+08:00"
                           ) from None
    if len(value) == 10 and moment.tzinfo is None:  # 2026-11-01: a business day
        moment = moment.replace(tzinfo=SHANGHAI)
    return filter_time(moment, field)


def params_of(body: Any) -> walk.Params:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body",
                           zh="请求体应为 JSON 对象")
    unknown = sorted(set(body) - KNOWN)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; known: sample, seed, since, until",
                           field=unknown[0],
                           zh=f"未知字段 {unknown[0]!r}；可用字段：sample、seed、since、until")
    return walk.params(body.get("sample", walk.DEFAULT_SAMPLE), body.get("seed"),
                       time_of(body.get("since"), "since"), time_of(body.get("until"), "until"),
                       secrets.randbelow(2 ** 31))
