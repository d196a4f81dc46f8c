"""Group-chat robots: DingTalk (signed webhook) and WeCom (webhook key)."""

from __future__ import annotations

import time
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
from orderpilot.adapters.connectors.signing import dingtalk_sign

DINGTALK_RETRY = {130101, -1}  # sending too fast; system busy
WECOM_RETRY = {45009, 45033, -1}  # api frequency limit; concurrency limit; system busy


def _post_text(client: httpx.Client, url: str, params: dict[str, str], text: str,
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


def notify_dingtalk(client: httpx.Client, base_url: str, access_token: str,
                    secret: str | None, text: str, idempotency_key: str,
                    timeout_s: float) -> CallResult:
    params = {"access_token": access_token}
    if secret:
        timestamp = int(time.time() * 1000)
        params.update(timestamp=str(timestamp), sign=dingtalk_sign(secret, timestamp))
    return _post_text(client, f"{base_url}/robot/send", params, text, idempotency_key,
                      timeout_s, "dingtalk robot", DINGTALK_RETRY)


def notify_wecom(client: httpx.Client, base_url: str, key: str, text: str,
                 idempotency_key: str, timeout_s: float) -> CallResult:
    return _post_text(client, f"{base_url}/cgi-bin/webhook/send", {"key": key}, text,
                      idempotency_key, timeout_s, "wecom robot", WECOM_RETRY)
