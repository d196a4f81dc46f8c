"""What each action does. Internal effects run inside the caller's unit of work (so they
commit together with the step's record: exactly once); external calls go through the
injected outbound connectors, outside any transaction, with an idempotency key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.order import Order
from orderpilot.domain.rules.definition import Step
from orderpilot.services.unit_of_work import UnitOfWork


class Outbound(Protocol):
    """The connectors (adapters/connectors); each call returns a CallResult or raises
    TransientError / PermanentError."""

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", headers: dict[str, str] | None = None,
                  json_body: Any = None, timeout_s: float | None = None,
                  hmac_secret: str | None = None, idempotency_key: str) -> Any: ...
    def send_sms(self, provider: Any, phone: str, template_code: str,
                 params: dict[str, str], sign_name: str, idempotency_key: str) -> Any: ...
    def send_email(self, to: str, subject: str, body_text: str, idempotency_key: str) -> Any: ...
    def notify_dingtalk(self, text: str, idempotency_key: str) -> Any: ...
    def notify_wecom(self, text: str, idempotency_key: str) -> Any: ...
    def helpdesk_create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> Any: ...
    def crm_push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> Any: ...
    def check_url(self, url: str) -> None: ...
    # Look-ups by the key a call was sent with; each returns a SentRecord (``found``).
    def sms_find_sent(self, provider: Any, phone: str, idempotency_key: str,
                      since: datetime) -> Any: ...
    def helpdesk_find_ticket(self, idempotency_key: str) -> Any: ...
    def crm_find_tag_push(self, idempotency_key: str) -> Any: ...


class StepRefused(InvalidInput):
    """The step cannot be done as configured for this run (no order, unknown template...)."""

    code = "step_refused"


@dataclass(frozen=True)
class StepCall:
    run_id: str
    rule_key: str
    order_id: str | None
    params: dict[str, Any]  # rendered
    key: str  # idempotency key
    context: dict[str, Any]

    @property
    def actor(self) -> str:
        return f"rule:{self.rule_key}"


def _order(uow: UnitOfWork, call: StepCall) -> Order:
    if call.order_id is None:
        raise StepRefused("this rule's trigger concerns no order", field="trigger")
    order: Order | None = uow.orders.get(call.order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=call.order_id)
    return order


def _save(uow: UnitOfWork, order: Order, now: datetime) -> None:
    uow.orders.save(order, now)
    uow.events.append(order.events)


def hold(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    order = _order(uow, call)
    minutes = call.params.get("release_after_minutes")
    release_at = now + timedelta(minutes=int(minutes)) if minutes else None
    placed = order.place_hold(call.params["reason"], str(call.params.get("note", "")),
                              call.actor, "rule", now, release_at, causation_id=call.run_id)
    if release_at is not None:
        uow.timers.schedule(f"hold:{placed.id}:auto_release", "hold.auto_release", release_at,
                            {"order_id": order.id, "hold_id": placed.id,
                             "placed_event_id": order.events[-1].id}, now, order_id=order.id)
    _save(uow, order, now)
    return {"hold_id": placed.id}


def release(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    order = _order(uow, call)
    reason = call.params.get("reason")
    released = 0
    for active in list(order.active_holds):
        if reason and active.reason != reason:
            continue
        if order.release_hold(active.id, call.actor, now, str(call.params.get("note", "")),
                              call.run_id) is not None:
            uow.timers.cancel(f"hold:{active.id}:auto_release")
            released += 1
    if released:
        _save(uow, order, now)
    return {"released": released}


def tag(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    order = _order(uow, call)
    changed = order.tag(list(call.params["tags"]), call.actor, now,
                        remove=bool(call.params.get("remove")), causation_id=call.run_id)
    if changed:
        _save(uow, order, now)
    return {"tags": list(order.tags), "changed": changed}


def set_field(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    order = _order(uow, call)
    name, value = call.params["name"], call.params["value"]
    uow.attributes.set(order.id, name, value, call.actor, now)
    order.record("order.field_set", "hub", now, now, {"name": name, "value": value,
                                                      "by": call.actor},
                 causation_id=call.run_id)
    uow.events.append(order.events)
    return {"value": value}


def open_ticket(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
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


def tag_customer(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
    phone = ((call.context.get("order") or {}).get("customer") or {}).get("phone")
    if not phone:
        raise StepRefused("this run has no customer phone to tag", field="order.customer.phone")
    added = uow.customers.add_tags(phone, list(call.params["tags"]), call.actor, now)
    return {"tags": list(call.params["tags"]), "added": added}


Internal = Callable[[UnitOfWork, StepCall, datetime], dict[str, Any]]
INTERNAL: dict[str, Internal] = {
    "order.hold": hold, "order.release": release, "order.tag": tag,
    "order.set_field": set_field, "ticket.create": open_ticket, "crm.tag": tag_customer,
}


def call_outside(outbound: Outbound, action: str, call: StepCall,
                 internal_output: dict[str, Any], hmac_secret: str | None) -> Any:
    """The external part of a step; returns the connector's CallResult."""
    p, key = call.params, call.key
    if action == "sms.send":
        template = p["_template"]
        params = {k: str(v) for k, v in (p.get("params") or {}).items()}
        return outbound.send_sms(template["provider"], str(p["phone"]), template["code"],
                                 params, template["sign_name"], idempotency_key=key)
    if action == "http.call":
        return outbound.http_call(p.get("method", "POST"), p.get("url"),
                                  connector=p.get("connector"), path=p.get("path", ""),
                                  headers=p.get("headers"), json_body=p.get("body"),
                                  timeout_s=p.get("timeout_s"),
                                  hmac_secret=hmac_secret if p.get("sign") else None,
                                  idempotency_key=key)
    if action == "email.send":
        return outbound.send_email(str(p["to"]), str(p["subject"]), str(p.get("body", "")),
                                   idempotency_key=key)
    if action == "notify.dingtalk":
        return outbound.notify_dingtalk(str(p["text"]), idempotency_key=key)
    if action == "notify.wecom":
        return outbound.notify_wecom(str(p["text"]), idempotency_key=key)
    if action == "ticket.create":
        return outbound.helpdesk_create_ticket(
            {"hub_ticket_id": internal_output.get("ticket_id"), "order_id": call.order_id,
             "subject": p["title"], "title": p["title"], "body": p.get("body", ""),
             "priority": p.get("priority", "normal"), "tags": p.get("tags", [])},
            idempotency_key=key)
    if action == "crm.tag":
        phone = ((call.context.get("order") or {}).get("customer") or {}).get("phone", "")
        return outbound.crm_push_tags(str(phone), list(p["tags"]), idempotency_key=key)
    raise StepRefused(f"{action} calls no outside system", field="type")


def look_up_outside(outbound: Outbound, action: str, call: StepCall,
                    since: datetime) -> Any:
    """Ask the outside system whether the call with ``call.key`` happened: a SentRecord, or
    None for the actions no provider can answer for (see adapters/connectors/lookups.py)."""
    p, key = call.params, call.key
    if action == "sms.send":
        return outbound.sms_find_sent(p["_template"]["provider"], str(p["phone"]), key, since)
    if action == "ticket.create":
        return outbound.helpdesk_find_ticket(key)
    if action == "crm.tag":
        return outbound.crm_find_tag_push(key)
    return None


def pick(response: Any, path: str) -> Any:
    """A value from a JSON response by a dotted path (``data.items.0.id``)."""
    current = response
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def render(engine: Any, value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        rendered = engine.render(value, context)
        return int(rendered) if isinstance(rendered, float) and rendered.is_integer() \
            else rendered
    if isinstance(value, dict):
        return {k: render(engine, v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(engine, v, context) for v in value]
    return value


def sms_template(uow: Any, code: str) -> dict[str, Any]:
    row = uow.sms_templates.get(code)
    if row is None:
        raise StepRefused(f"SMS template {code} is no longer registered", field="template")
    return {"code": row.code, "provider": row.provider, "sign_name": row.sign_name,
            "params": list(row.params)}


def step_outputs(step: Step, result: Any) -> dict[str, Any]:
    mapping = step.params.get("output") if step.type == "http.call" else None
    base = dict(result.output or {})
    if result.status_code is not None:
        base.setdefault("status_code", result.status_code)
    if mapping:
        base.update({name: pick(result.response, path) for name, path in mapping.items()})
    return base


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)
