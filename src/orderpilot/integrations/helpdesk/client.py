"""The helpdesk: open a ticket, get back its id; find a ticket by the key it was opened with."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters.connectors.base import CallResult, PermanentError, TransientError
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.lookups import SentRecord


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


def find_ticket(http: HttpConnector, idempotency_key: str) -> SentRecord:
    """Whether the helpdesk already has a ticket opened with this key.

    Our helpdesk contract (the simulator implements it): ``GET /api/tickets?external_key=K``
    answers ``{"tickets": [{"id", "status", "external_key"}]}``, an empty list when no
    ticket was opened with the Idempotency-Key K. A helpdesk behind this connector must offer
    that look-up; a failed look-up raises and is asked again later.
    """
    result = http.call("GET", connector="helpdesk", path="/api/tickets",
                       params={"external_key": idempotency_key},
                       idempotency_key=f"look-up:{idempotency_key}")
    tickets = result.response.get("tickets") if isinstance(result.response, dict) else None
    if not isinstance(tickets, list):
        raise TransientError("helpdesk ticket look-up: the answer has no tickets list",
                             request=result.request, response=result.response,
                             status_code=result.status_code, latency_ms=result.latency_ms)
    found = next((t for t in tickets if isinstance(t, dict) and t.get("id")), None)
    return SentRecord(found is not None, result.request, result.response, result.latency_ms,
                      {"external_id": found["id"]} if found else {})


class Helpdesk:
    def __init__(self, http: HttpConnector) -> None:
        self.http = http

    def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> CallResult:
        return create_ticket(self.http, ticket, idempotency_key)

    def find_ticket(self, idempotency_key: str) -> SentRecord:
        return find_ticket(self.http, idempotency_key)
