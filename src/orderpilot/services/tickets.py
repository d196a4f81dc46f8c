"""Moving a ticket along: the one path the API and the console share."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.errors import NotFound
from orderpilot.domain.tickets import check_move
from orderpilot.services.unit_of_work import Clock, UowFactory


def move(uow: UowFactory, clock: Clock, ticket_id: str, status: str) -> Any:
    """Move one ticket to `status` if its state allows it; returns the stored ticket.

    Raises NotFound for an unknown ticket and IllegalTicketMove (a Conflict) for a move its
    state does not allow; either way nothing changes."""
    with uow() as work:
        ticket = work.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}", field="ticket_id")
        check_move(ticket.status, status)
        work.tickets.update(ticket_id, clock(), status=status)
        return work.tickets.get(ticket_id)
