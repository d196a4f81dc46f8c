"""外发 Webhook / Outbound webhooks (docs/webhooks.md): the subscriptions, one subscription's
deliveries with their request and response, and a replay button for dead-lettered or
delivered ones. Admins and ops read it (``webhooks.read``); only admins replay
(``webhooks.manage``). A tab of the administration section; subscriptions are made through
the API (their secret is shown once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.domain.access import allowed
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.api.webhooks import delivery_view
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
    masked = not allowed(who.role, "pii.read")
    return console.render(request, "webhooks.html", {
        "nav": "webhooks", "subscriptions": subscriptions, "chosen": chosen,
        "deliveries": [delivery_view(r, masked) for r in rows], "counts": counts,
        "status": status, "statuses": STATUSES, **shown}, status=code)


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
