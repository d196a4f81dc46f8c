"""/api/v1/webhooks: outbound webhook subscriptions and their delivery log (docs/webhooks.md).

    POST   /api/v1/webhooks                              {"url", "events", "secret"?}
    GET    /api/v1/webhooks                              every subscription (no secrets)
    GET    /api/v1/webhooks/{webhook_id}
    DELETE /api/v1/webhooks/{webhook_id}                 disable (its log stays)
    POST   /api/v1/webhooks/{webhook_id}/enable
    GET    /api/v1/webhooks/{webhook_id}/deliveries      ?status=&cursor=&limit=
    GET    /api/v1/webhooks/deliveries/{delivery_id}
    POST   /api/v1/webhooks/deliveries/{delivery_id}/replay

Admins manage subscriptions (``webhooks.manage``); admins and ops read the log
(``webhooks.read``), the bodies masked for roles without ``pii.read``. A secret is shown only
in the answer that created it, and only when the hub chose it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from orderpilot.bootstrap import Hub
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import HostNotAllowed, InvalidInput
from orderpilot.domain.masking import mask_document
from orderpilot.entrypoints.api.deps import CanManageWebhooks, CanReadWebhooks, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services import webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Id = Annotated[str, Path(max_length=36)]


class WebhookIn(Strict):
    url: str = Field(max_length=1000, description="Where deliveries are POSTed; it must be on "
                                                  "the outbound allow-list")
    events: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=100, description='Event types, or "*" for every event')
    secret: str | None = Field(None, max_length=200,
                               description="HMAC-SHA256 key, at least 16 characters; left "
                                           "out, the hub makes one and shows it once")
    description: str = Field("", max_length=200)


def url_refusal(hub: Hub) -> Callable[[str], str | None]:
    """Why the connector allow-list refuses a URL, or None (``webhooks.subscribe``)."""
    def check_url(url: str) -> str | None:
        try:
            hub.connectors.check_url(url)
        except HostNotAllowed as error:
            return error.message
        return None

    return check_url


@router.post("", status_code=201, summary="Subscribe a URL to events (secret never shown again)")
def create(body: WebhookIn, hub: HubDep, who: CanManageWebhooks) -> JSONResponse:
    with hub.uow() as uow:
        shown, generated = webhooks.subscribe(
            uow, hub.clock, url_refusal(hub), url=body.url, events=body.events, secret=body.secret,
            description=body.description, by=who.name)
    answer = _subscription(shown)
    if generated is not None:
        answer["secret"] = generated
    return JSONResponse(answer, status_code=201)


@router.get("", summary="Every webhook subscription (secrets never shown)")
def listing(hub: HubDep, who: CanReadWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        return {"items": [_subscription(s) for s in uow.webhooks.subscriptions()],
                "deliveries": uow.webhooks.counts()}


@router.get("/{webhook_id}", summary="One webhook subscription")
def get_one(webhook_id: Id, hub: HubDep, who: CanReadWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        return _subscription(webhooks.get_subscription(uow, webhook_id))


@router.delete("/{webhook_id}", summary="Disable a subscription (its delivery log stays)")
def disable(webhook_id: Id, hub: HubDep, who: CanManageWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        return _subscription(webhooks.set_enabled(uow, webhook_id, False))


@router.post("/{webhook_id}/enable", summary="Enable a disabled subscription again")
def enable(webhook_id: Id, hub: HubDep, who: CanManageWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        return _subscription(webhooks.set_enabled(uow, webhook_id, True))


@router.get("/{webhook_id}/deliveries", summary="The delivery log, newest first")
def deliveries(webhook_id: Id, hub: HubDep, who: CanReadWebhooks,
               status: Literal["pending", "delivered", "dead"] | None = None,
               cursor: Annotated[str | None, Query(max_length=20)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    before = None
    if cursor:
        if not cursor.isdigit():
            raise InvalidInput("cursor is not one this API returned", field="cursor",
                               zh="cursor 不是本 API 返回的游标")
        before = int(cursor)
    with hub.uow() as uow:
        webhooks.get_subscription(uow, webhook_id)
        rows = uow.webhooks.deliveries(webhook_id, status=status, before_seq=before,
                                       limit=limit)
        tried = uow.webhooks.attempts([r["id"] for r in rows])
    masked = not allowed(who.role, "pii.read")
    return {"items": [delivery_view(r, masked, tried[r["id"]]) for r in rows],
            "next_cursor": str(rows[-1]["seq"]) if len(rows) == limit else None}


@router.get("/deliveries/{delivery_id}", summary="One delivery: request, response, timings")
def delivery(delivery_id: Id, hub: HubDep, who: CanReadWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        found = uow.webhooks.delivery(delivery_id)
        tried = uow.webhooks.attempts([delivery_id])[delivery_id]
    if found is None:
        raise webhooks.missing_delivery(delivery_id)
    return delivery_view(found, not allowed(who.role, "pii.read"), tried)


@router.post("/deliveries/{delivery_id}/replay",
             summary="Send a dead-lettered or delivered delivery again")
def replay(delivery_id: Id, hub: HubDep, who: CanManageWebhooks) -> dict[str, Any]:
    with hub.uow() as uow:
        found = webhooks.replay(uow, delivery_id, hub.clock)
        tried = uow.webhooks.attempts([delivery_id])[delivery_id]
    return delivery_view(found, not allowed(who.role, "pii.read"), tried)


def _subscription(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": row["created_at"].isoformat()}


def delivery_view(row: dict[str, Any], masked: bool,
                  attempts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A delivery as the log shows it, with every attempt (ATTEMPTS, oldest first); MASKED:
    personal data in the bodies masked."""
    try:
        body: Any = json.loads(row["body"])
    except ValueError:
        body = row["body"]
    response_body = row["response_body"]
    if masked:
        body, response_body = mask_document(body), mask_document(response_body)

    def at(name: str) -> str | None:
        value = row[name]
        return value.isoformat() if value is not None else None

    return {"id": row["id"], "subscription_id": row["subscription_id"],
            "event_id": row["event_id"], "event_type": row["event_type"],
            "order_id": row["order_key"] or None, "status": row["status"],
            "attempts": row["attempts"], "replays": row["replays"],
            "created_at": at("created_at"),
            "next_attempt_at": at("due_at") if row["status"] == "pending" else None,
            "last_error": row["last_error"],
            "request": {"headers": row["request_headers"], "body": body},
            "response": {"status": row["response_status"], "body": response_body},
            "timings": {"first_attempt_at": at("first_attempt_at"),
                        "last_attempt_at": at("last_attempt_at"),
                        "delivered_at": at("delivered_at"), "duration_ms": row["duration_ms"]},
            "attempt_log": [attempt_view(a, masked) for a in attempts or []]}


def attempt_view(attempt: dict[str, Any], masked: bool) -> dict[str, Any]:
    body = attempt["response_body"]
    return {"attempted_at": attempt["attempted_at"].isoformat(), "replay": attempt["replay"],
            "outcome": attempt["outcome"], "duration_ms": attempt["duration_ms"],
            "response": {"status": attempt["response_status"],
                         "body": mask_document(body) if masked else body},
            "error": attempt["error"]}
