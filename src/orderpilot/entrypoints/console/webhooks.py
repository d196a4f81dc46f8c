"""外发 Webhook / Outbound webhooks (docs/webhooks.md): the subscriptions, one subscription's
deliveries with their request and response, and a replay button for dead-lettered or
delivered ones. Admins and ops read it (``webhooks.read``); only admins subscribe a URL,
switch a subscription off and on, and replay (``webhooks.manage``). A subscription made here
gets a secret the hub chooses, shown once on the page that made it (as through the API). A
tab of the administration section."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from orderpilot.domain.access import allowed
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.webhooks import EVERY_EVENT, KNOWN_EVENTS
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.api.webhooks import delivery_view, url_refusal
from orderpilot.entrypoints.console.auth import WebhookManager, WebhookReader
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep
from orderpilot.entrypoints.console.users import refused_status
from orderpilot.services import webhooks

router = APIRouter(prefix="/console")
PAGE = 50
STATUSES = ("pending", "delivered", "dead")


def _page(request: Request, hub: Any, console: Console, who: Any, webhook: str = "",
          status: str = "", *, code: int = 200, **shown: Any) -> Response:
    with hub.uow() as uow:
        subscriptions = uow.webhooks.subscriptions()
        counts = uow.webhooks.counts()
        chosen = next((s for s in subscriptions if s["id"] == webhook),
                      subscriptions[0] if subscriptions else None)
        rows = uow.webhooks.deliveries(chosen["id"], status=status or None, limit=PAGE) \
            if chosen else []
        tried = uow.webhooks.attempts([r["id"] for r in rows])
    masked = not allowed(who.role, "pii.read")
    return console.render(request, "webhooks.html", {
        "nav": "webhooks", "subscriptions": subscriptions, "chosen": chosen,
        "deliveries": [delivery_view(r, masked, tried[r["id"]]) for r in rows],
        "counts": counts,
        "status": status, "statuses": STATUSES, "event_types": EVENT_CHOICES, **shown},
        status=code)


EVENT_CHOICES = sorted(KNOWN_EVENTS)


@router.get("/webhooks", name="console:webhooks")
def webhooks_page(request: Request, hub: HubDep, console: ConsoleDep, who: WebhookReader,
                  webhook: str = "", status: str = "") -> Response:
    return _page(request, hub, console, who, webhook[:36],
                 status if status in STATUSES else "")


@router.post("/webhooks/deliveries/{delivery_id}/replay", name="console:webhook-replay")
def replay(request: Request, hub: HubDep, console: ConsoleDep, who: WebhookManager,
           delivery_id: str) -> Response:
    try:
        with hub.uow() as uow:
            found = webhooks.replay(uow, delivery_id[:36], hub.clock)
    except OrderpilotError as refused:
        return _page(request, hub, console, who, code=refused_status(refused),
                     error=console.say(request, refused))
    return _page(request, hub, console, who, found["subscription_id"],
                 notice=console.translate(request, N_("Replay queued: it is sent again "
                                                      "from its first attempt.")))


@router.post("/webhooks", name="console:webhook-create")
def create(request: Request, hub: HubDep, console: ConsoleDep, who: WebhookManager,
           url: Annotated[str, Form(max_length=1000)] = "",
           events: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 - FastAPI
           every: Annotated[str, Form(max_length=5)] = "",
           description: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Subscribe URL to the ticked events (or every event); the hub chooses the secret."""
    chosen = [EVERY_EVENT] if every else [e[:64] for e in events]
    try:
        with hub.uow() as uow:
            made, secret = webhooks.subscribe(uow, hub.clock, url_refusal(hub),
                                              url=url.strip(), events=chosen, secret=None,
                                              description=description.strip(), by=who.name)
    except OrderpilotError as refused:
        return _page(request, hub, console, who, code=refused_status(refused),
                     error=console.say(request, refused), form_url=url,
                     form_events=chosen, form_description=description)
    return _page(request, hub, console, who, made["id"], secret=secret,
                 notice=console.translate(request, N_(
                     "Subscribed. Copy the signing secret now: it is shown only once.")))


@router.post("/webhooks/{webhook_id}/disable", name="console:webhook-disable")
def disable(request: Request, hub: HubDep, console: ConsoleDep, who: WebhookManager,
            webhook_id: str) -> Response:
    return _switch(request, hub, console, who, webhook_id[:36], False)


@router.post("/webhooks/{webhook_id}/enable", name="console:webhook-enable")
def enable(request: Request, hub: HubDep, console: ConsoleDep, who: WebhookManager,
           webhook_id: str) -> Response:
    return _switch(request, hub, console, who, webhook_id[:36], True)


def _switch(request: Request, hub: Any, console: Console, who: Any, webhook_id: str,
            on: bool) -> Response:
    try:
        with hub.uow() as uow:
            webhooks.set_enabled(uow, webhook_id, on)
    except OrderpilotError as refused:
        return _page(request, hub, console, who, code=refused_status(refused),
                     error=console.say(request, refused))
    done = (N_("Subscription switched on: new events are delivered again.") if on else
            N_("Subscription switched off: no new deliveries; its log stays."))
    return _page(request, hub, console, who, webhook_id,
                 notice=console.translate(request, done))
