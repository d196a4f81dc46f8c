"""The CRM: tag a customer, found by phone number."""

from __future__ import annotations

from orderpilot.adapters.connectors.base import CallResult, PermanentError
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.sms import national_number


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
