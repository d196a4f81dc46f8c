"""Checks the simulated systems make before they act: tokens, hub signatures, JSON fields."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.signing import HUB_SIGNATURE_HEADER, verify_hub_signature
from orderpilot.simulators.external.recorder import Answer


def hub_signature_refusal(request: Request, raw: bytes) -> Answer | None:
    """A signed body must verify with the simulator's secret; unsigned bodies pass."""
    header = request.headers.get(HUB_SIGNATURE_HEADER)
    if header is None or verify_hub_signature(SIM.http_hmac_secret, header, raw, time.time()):
        return None
    return 401, {"error": f"{HUB_SIGNATURE_HEADER} does not verify", "field": "signature"}


def bearer_refusal(request: Request, token: str) -> Answer | None:
    if request.headers.get("authorization") == f"Bearer {token}":
        return None
    return 401, {"error": "missing or wrong bearer token", "field": "Authorization"}


def json_object_refusal(body: Any, required: dict[str, type]) -> Answer | None:
    if not isinstance(body, dict):
        return 422, {"error": "the body must be a JSON object", "field": None}
    for field, kind in required.items():
        value = body.get(field)
        if not isinstance(value, kind) or not value:
            return 422, {"error": f"{field} is required ({kind.__name__})", "field": field}
    return None


def first_refusal(*refusals: Answer | None) -> Answer | None:
    return next((r for r in refusals if r is not None), None)


def text_refusal(body: Any) -> Answer | None:
    """The robots' shared shape: {"msgtype": "text", "text": {"content": "..."}}."""
    if not isinstance(body, dict) or body.get("msgtype") != "text" \
            or not isinstance(body.get("text"), dict) or not body["text"].get("content"):
        return 200, {"errcode": 40035, "errmsg": "missing text.content (msgtype text)"}
    return None
