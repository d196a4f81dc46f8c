"""The Shopify simulator's shared parts: its test shop and credentials, the order store, the
gate every Admin API call passes (a queued fault, then the access token), Shopify's JSON
answers and signed webhook deliveries. Used by the order routes (simulator.py) and the
returns and refunds routes (sim_returns.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from orderpilot.integrations.shopify.client import API_VERSION
from orderpilot.integrations.shopify.signing import webhook_signature
from orderpilot.integrations.shopify.sim_store import OrderStore
from orderpilot.simulators.external.channel_contract import deliver
from orderpilot.simulators.external.recorder import Recorder, recorder_for

NAME = "shopify"
SIM_SHOP_ID = "dolphin-baby"
SIM_REGION = ""
SIM_CREDENTIALS: dict[str, str] = {"access_token": "sim-shopify-admin-api-token",
                                   "webhook_secret": "sim-shopify-webhook-secret"}
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = ("Exceeded 2 calls per second for api client. Reduce request rates to resume "
             "uninterrupted service.")
CALL_LIMIT = {"X-Shopify-Shop-Api-Call-Limit": "1/40"}


def reset(recorder: Recorder) -> None:
    recorder.data.update(store=OrderStore(), next_number=1, revoked=False)


def _store(recorder: Recorder) -> OrderStore:
    store: OrderStore = recorder.data.setdefault("store", OrderStore())
    return store


async def _refusal(request: Request) -> JSONResponse | None:
    """A queued fault, or Shopify's 401, before anything else."""
    recorder = recorder_for(request, NAME)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            return JSONResponse({"errors": THROTTLED}, 429, headers={
                "Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": "40/40"})
        if fault.status is not None:
            return JSONResponse(fault.body if fault.body is not None
                                else {"errors": "Internal Server Error"}, fault.status)
    token = request.headers.get("x-shopify-access-token", "")
    if token != SIM_CREDENTIALS["access_token"] or recorder.data.get("revoked"):
        return JSONResponse({"errors": INVALID_TOKEN}, 401)
    return None


def _json(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(text, status, headers={**CALL_LIMIT, **(headers or {})},
                    media_type="application/json")


def webhook_headers(body: bytes, topic: str, secret: str | None = None) -> dict[str, str]:
    """The headers Shopify sends with a webhook delivery of BODY."""
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_signature(
                secret or SIM_CREDENTIALS["webhook_secret"], body),
            "X-Shopify-Shop-Domain": f"{SIM_SHOP_ID}.myshopify.com",
            "X-Shopify-API-Version": API_VERSION, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}


def _deliver(url: str, body: bytes, headers: dict[str, str], times: int) -> dict[str, Any]:
    """POST BODY to URL TIMES times (a retried delivery: same headers, same bytes)."""
    return deliver(url, body, headers, times, keep=500)
