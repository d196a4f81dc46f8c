"""The CRM: tag a customer, found by phone number; find a tag push by its key; lower a
customer's level (会员等级) and find that change by its key."""

from __future__ import annotations

from orderpilot.adapters.connectors.base import CallResult, PermanentError, TransientError
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.sms_provider import national_number


def push_tags(http: HttpConnector, phone: str, tags: list[str],
              idempotency_key: str) -> CallResult:
    if not phone.strip():
        raise PermanentError("crm tags: phone is empty")
    if not tags or not all(isinstance(t, str) and t.strip() for t in tags):
        raise PermanentError(f"crm tags: tags must be non-empty strings, got {tags!r}")
    result = http.call("POST", connector="crm", path="/api/customers/tags",
                       json_body={"phone": national_number(phone), "tags": tags},
                       idempotency_key=idempotency_key)
    result.output = {"ok": bool(result.output.get("ok")), "tags": list(tags)}
    return result


def find_tag_push(http: HttpConnector, idempotency_key: str) -> SentRecord:
    """Whether the CRM already applied a tag push sent with this key.

    Our CRM contract (the simulator implements it): ``GET /api/customers/tags?request_key=K``
    answers ``{"pushes": [{"request_key", "tags", "at"}]}``, empty when no push with the
    Idempotency-Key K was applied. (Adding tags is a set union, so a repeat changes nothing
    the buyer sees; the look-up still keeps the CRM's own history to one push.)
    """
    result = http.call("GET", connector="crm", path="/api/customers/tags",
                       params={"request_key": idempotency_key},
                       idempotency_key=f"look-up:{idempotency_key}")
    pushes = result.response.get("pushes") if isinstance(result.response, dict) else None
    if not isinstance(pushes, list):
        raise TransientError("crm tag look-up: the answer has no pushes list",
                             request=result.request, response=result.response,
                             status_code=result.status_code, latency_ms=result.latency_ms)
    found = next((p for p in pushes if isinstance(p, dict)), None)
    return SentRecord(found is not None, result.request, result.response, result.latency_ms,
                      {"ok": True, "tags": list(found.get("tags") or [])} if found else {})


def lower_level(http: HttpConnector, phone: str, levels: int, reason: str,
                idempotency_key: str) -> CallResult:
    """Our CRM contract: ``POST /api/customers/level`` {"phone", "change": -LEVELS, "reason"}
    answers {"ok", "phone", "from", "to"} (levels are whole numbers; the lowest is 0, and a
    change at the floor answers ``from`` = ``to``)."""
    if not phone.strip():
        raise PermanentError("crm level: phone is empty", zh="CRM 等级：手机号为空")
    if isinstance(levels, bool) or not isinstance(levels, int) or not 0 < levels <= 10:
        raise PermanentError(f"crm level: lower by 1 to 10 levels, not {levels!r}",
                             zh=f"CRM 等级：只能降低 1 到 10 级，而不是 {levels!r}")
    result = http.call("POST", connector="crm", path="/api/customers/level",
                       json_body={"phone": national_number(phone), "change": -levels,
                                  "reason": reason[:200]},
                       idempotency_key=idempotency_key)
    result.output = _level_output(result.response)
    return result


def _level_output(body: object) -> dict[str, object]:
    found = body if isinstance(body, dict) else {}
    return {"ok": bool(found.get("ok")), "from": found.get("from"), "to": found.get("to")}


def find_level_change(http: HttpConnector, idempotency_key: str) -> SentRecord:
    """Whether the CRM applied a level change sent with this key: ``GET
    /api/customers/level?request_key=K`` answers {"changes": [{"request_key", "from", "to",
    "at"}]}, empty when none was."""
    result = http.call("GET", connector="crm", path="/api/customers/level",
                       params={"request_key": idempotency_key},
                       idempotency_key=f"look-up:{idempotency_key}")
    changes = result.response.get("changes") if isinstance(result.response, dict) else None
    if not isinstance(changes, list):
        raise TransientError("crm level look-up: the answer has no changes list",
                             request=result.request, response=result.response,
                             status_code=result.status_code, latency_ms=result.latency_ms,
                             zh="CRM 等级查询：返回中没有 changes 列表")
    found = next((c for c in changes if isinstance(c, dict)), None)
    return SentRecord(found is not None, result.request, result.response, result.latency_ms,
                      {**_level_output({**found, "ok": True})} if found else {})


class Crm:
    def __init__(self, http: HttpConnector) -> None:
        self.http = http

    def push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> CallResult:
        return push_tags(self.http, phone, tags, idempotency_key)

    def find_tag_push(self, idempotency_key: str) -> SentRecord:
        return find_tag_push(self.http, idempotency_key)

    def lower_level(self, phone: str, levels: int, reason: str,
                    idempotency_key: str) -> CallResult:
        return lower_level(self.http, phone, levels, reason, idempotency_key)

    def find_level_change(self, idempotency_key: str) -> SentRecord:
        return find_level_change(self.http, idempotency_key)
