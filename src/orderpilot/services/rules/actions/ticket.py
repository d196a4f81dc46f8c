"""ticket.create: open a service ticket in the hub (in the step's transaction), then, when
``webhook`` is on, send it to the helpdesk, which can be asked for it by the key."""

from __future__ import annotations

from datetime import datetime

from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import (
    Answer,
    Found,
    Output,
    Outside,
    RuleAction,
    StepCall,
)
from orderpilot.services.unit_of_work import UnitOfWork

PRIORITIES = ("low", "normal", "high", "urgent")

TYPE = ActionType("ticket.create", "创建客服工单", "Open a service ticket", (
    param("title", "template", "标题", "Title", required=True),
    param("body", "template", "内容", "Details"),
    param("priority", "enum", "优先级", "Priority", choices=PRIORITIES, default="normal"),
    param("tags", "tags", "标签", "Tags"),
    param("webhook", "bool", "同步到外部客服系统", "Also send to the helpdesk", default=False)),
    external=False, internal=True, outputs={"ticket_id": "text"}, push_flag="webhook",
    default_step_id="ticket")


def open_ticket(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    p = call.params
    row = {"id": new_id(), "order_id": call.order_id, "title": str(p["title"])[:200],
           "body": str(p.get("body", "")), "priority": p.get("priority", "normal"),
           "tags": list(p.get("tags", [])), "status": "open", "created_by": call.actor,
           "idempotency_key": call.key, "created_at": now, "updated_at": now}
    ticket = uow.tickets.add(row)
    if ticket.id == row["id"] and call.order_id is not None:
        uow.events.append([OrderEvent(call.order_id, "ticket.opened", "hub", now, now,
                                      {"ticket_id": ticket.id, "title": ticket.title,
                                       "priority": ticket.priority, "tags": ticket.tags},
                                      causation_id=call.run_id)])
    return {"ticket_id": ticket.id}


def send_to_helpdesk(outside: Outside, call: StepCall, hub_output: Output,
                     hmac_secret: str | None) -> Answer:
    p = call.params
    return outside.helpdesk_create_ticket(
        {"hub_ticket_id": hub_output.get("ticket_id"), "order_id": call.order_id,
         "subject": p["title"], "title": p["title"], "body": p.get("body", ""),
         "priority": p.get("priority", "normal"), "tags": p.get("tags", [])},
        idempotency_key=call.key)


def find_at_helpdesk(outside: Outside, call: StepCall, since: datetime) -> Found:
    return outside.helpdesk_find_ticket(call.key)


def keep_external_id(uow: UnitOfWork, call: StepCall, output: Output, now: datetime) -> None:
    """The helpdesk's id for the ticket, kept on the hub's ticket."""
    if output.get("external_id") and output.get("ticket_id"):
        uow.tickets.update(output["ticket_id"], now, external_id=str(output["external_id"]))


ACTION = RuleAction(TYPE, effect=open_ticket, call=send_to_helpdesk, look_up=find_at_helpdesk,
                    after_call=keep_external_id)
