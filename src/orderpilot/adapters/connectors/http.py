"""Plain HTTP calls to a URL or to a named connector, JSON in and out, optionally signed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    PermanentError,
    mask,
    mask_url,
    send,
)
from orderpilot.adapters.connectors.endpoints import Endpoints
from orderpilot.adapters.connectors.signing import HUB_SIGNATURE_HEADER, hub_signature


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def output_of(body: Any) -> dict[str, Any]:
    return dict(body) if isinstance(body, dict) else {"body": body}


class HttpConnector:
    def __init__(self, client: httpx.Client, endpoints: Endpoints, timeout_s: float,
                 check_url: Callable[[str], None]) -> None:
        self.client, self.endpoints, self.timeout_s = client, endpoints, timeout_s
        self.check_url = check_url

    def resolve(self, url: str | None, connector: str | None, path: str) -> str:
        if (url is None) == (connector is None):
            raise PermanentError("give either a full url or a connector name, not both")
        if connector is not None:
            base = self.endpoints.url_for(connector)
            if base is None:
                known = ", ".join(sorted(self.endpoints.urls)) or "none"
                raise PermanentError(f"unknown connector {connector!r} (configured: {known})")
            url = base + ("/" + path.lstrip("/") if path else "")
        assert url is not None
        self.check_url(url)
        return url

    def call(self, method: str, url: str | None = None, *, connector: str | None = None,
             path: str = "", headers: Mapping[str, str] | None = None,
             json_body: Any = None, timeout_s: float | None = None,
             hmac_secret: str | None = None, idempotency_key: str,
             params: Mapping[str, str] | None = None) -> CallResult:
        target = self.resolve(url, connector, path)
        all_headers = {"Idempotency-Key": idempotency_key, **(headers or {})}
        token = self.endpoints.tokens.get(connector or "")
        if token and not any(k.lower() == "authorization" for k in all_headers):
            all_headers["Authorization"] = f"Bearer {token}"
        content = json_bytes(json_body) if json_body is not None else b""
        if json_body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        secret = hmac_secret or self.endpoints.hmac_secret
        if secret:
            all_headers[HUB_SIGNATURE_HEADER] = hub_signature(secret, int(time.time()), content)
        request = self.client.build_request(
            method.upper(), target, params=params, headers=all_headers, content=content,
            timeout=timeout_s or self.timeout_s)
        record = {"method": request.method, "url": mask_url(request.url),
                  "headers": mask(all_headers), "body": mask(json_body)}
        what = f"{connector or request.url.host} {request.method} {request.url.path}"
        response, body, latency = send(self.client, request, record, what)
        return CallResult(record, body, response.status_code, latency, output_of(body))
