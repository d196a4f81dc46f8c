"""Moving a ticket along: the one path the API and the console share."""

from __future__ import annotations

from orderpilot.domain.errors import NotFound
from orderpilot.domain.rules.records import Ticket
from orderpilot.domain.tickets import check_move
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UowFactory


def move(uow: UowFactory, clock: Clock, ticket_id: str, status: str) -> Ticket:
    """Move one ticket to `status` if its state allows it; returns the stored ticket.

    Raises NotFound for an unknown ticket and IllegalTicketMove (a Conflict) for a move its
    state does not allow; either way nothing changes."""
    with uow() as work:
        ticket = work.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}", field="ticket_id", zh=f"没有工单 {ticket_id}")
        check_move(ticket.status, status)
        work.tickets.update(ticket_id, clock(), status=status)
        moved = work.tickets.get(ticket_id)
        assert moved is not None  # updated in this transaction
        audit_trail.record(work, clock, "ticket.move", subject_type="ticket",
                           subject_id=ticket_id, order_id=ticket.order_id,
                           before={"status": ticket.status}, after={"status": status})
        return moved
