"""POST /hooks/{code}: a sales platform's push. No bearer token: the platform's own signature
over the exact raw bytes is the credential (services/channels/hooks.py)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from orderpilot.domain.channel_orders import Hook
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.services.channels import hooks

router = APIRouter(prefix="/hooks", tags=["hooks"])


@router.post("/{code}", summary="A platform pushes an order change (signed by the platform)",
             description="Verified with the platform's own signature (Shopee Authorization, "
                         "Lazada/TikTok Authorization, Shopify X-Shopify-Hmac-Sha256, "
                         "WooCommerce X-WC-Webhook-Signature, Youzan sign). A bad signature or "
                         "an unknown account: 401, recorded. The push is kept and answered at "
                         "once; the order is fetched afterwards, once per push.")
async def push(code: Annotated[str, Path(max_length=64)], request: Request,
               hub: HubDep) -> Response:
    body = await request.body()
    hook = Hook(url=str(request.url), headers={k.lower(): v for k, v in request.headers.items()},
                query=dict(request.query_params))

    def take() -> hooks.PushTaken:
        return hooks.receive(code, hook, body, hub.channel_accounts, hub.channels.platforms(),
                             hub.uow, hub.clock, hub.push_batcher)

    try:
        taken = await anyio.to_thread.run_sync(take)
    except hooks.PushRefused as refused:
        hub.metrics.channel_pushes.labels("refused").inc()
        return JSONResponse({"error": {"code": refused.code, "message": refused.message,
                                       "message_zh": refused.message_zh,
                                       "field": refused.field}}, status_code=401)
    hub.metrics.channel_pushes.labels(
        "duplicate" if taken.duplicate else
        "quarantined" if taken.quarantined else "taken").inc()
    return Response(taken.answer.body, status_code=taken.answer.status,
                    media_type=taken.answer.media_type)
