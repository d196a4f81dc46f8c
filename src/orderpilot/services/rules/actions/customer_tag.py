"""crm.tag: tag the customer (by phone) in the hub, then, when ``push`` is on, push the tags
to the CRM, which can be asked for the push by the key."""

from __future__ import annotations

from datetime import datetime

from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import (
    Answer,
    Found,
    Output,
    Outside,
    RuleAction,
    StepCall,
    StepRefused,
)
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType("crm.tag", "客户打标(CRM)", "Tag the customer (CRM)", (
    param("tags", "tags", "客户标签", "Customer tags", required=True),
    param("push", "bool", "推送到CRM", "Push to the CRM", default=True)),
    external=False, internal=True, outputs={"tags": "tags"}, push_flag="push",
    default_step_id="crm")


def tag_customer(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    phone = call.customer_phone
    if not phone:
        raise StepRefused("this run has no customer phone to tag", field="order.customer.phone",
                          zh="本次运行没有可打标的客户手机号")
    added = uow.customers.add_tags(phone, list(call.params["tags"]), call.actor, now)
    return {"tags": list(call.params["tags"]), "added": added}


def push_to_crm(outside: Outside, call: StepCall, hub_output: Output,
                hmac_secret: str | None) -> Answer:
    return outside.crm_push_tags(call.customer_phone or "", list(call.params["tags"]),
                                 idempotency_key=call.key)


def find_at_crm(outside: Outside, call: StepCall, since: datetime) -> Found:
    return outside.crm_find_tag_push(call.key)


ACTION = RuleAction(TYPE, effect=tag_customer, call=push_to_crm, look_up=find_at_crm)
