"""What the group-chat robots share: a text message posted to a webhook, answered with an
``errcode`` (0 = posted)."""

from __future__ import annotations

from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    PermanentError,
    TransientError,
    mask,
    mask_url,
    send,
)
from orderpilot.adapters.connectors.http import json_bytes


def post_text(client: httpx.Client, url: str, params: dict[str, str], text: str,
              idempotency_key: str, timeout_s: float, what: str,
              retry_codes: set[int]) -> CallResult:
    payload = {"msgtype": "text", "text": {"content": text}}
    request = client.build_request(
        "POST", url, params=params, content=json_bytes(payload), timeout=timeout_s,
        headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key})
    record: dict[str, Any] = {"method": "POST", "url": mask_url(request.url),
                              "body": mask(payload)}
    response, body, latency = send(client, request, record, what)
    errcode = body.get("errcode") if isinstance(body, dict) else None
    if errcode != 0:
        kind = TransientError if errcode in retry_codes else PermanentError
        message = body.get("errmsg") if isinstance(body, dict) else body
        raise kind(f"{what}: errcode {errcode}: {message}", request=record, response=body,
                   status_code=response.status_code, latency_ms=latency)
    return CallResult(record, body, response.status_code, latency, {"errcode": 0})
