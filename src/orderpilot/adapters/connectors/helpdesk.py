"""The helpdesk: open a ticket, get back its id."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters.connectors.base import CallResult, PermanentError
from orderpilot.adapters.connectors.http import HttpConnector


def create_ticket(http: HttpConnector, ticket: dict[str, Any],
                  idempotency_key: str) -> CallResult:
    result = http.call("POST", connector="helpdesk", path="/api/tickets", json_body=ticket,
                       idempotency_key=idempotency_key)
    ticket_id = result.output.get("id")
    if not ticket_id:
        raise PermanentError("helpdesk: the answer has no ticket id", request=result.request,
                             response=result.response, status_code=result.status_code,
                             latency_ms=result.latency_ms)
    result.output = {"external_id": ticket_id}
    return result
