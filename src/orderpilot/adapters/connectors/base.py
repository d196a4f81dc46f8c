"""What every connector returns or raises, and the masking that keeps run history safe.

    ConnectorError            a call did not do what was asked; carries what was sent
      TransientError          timeout, connection refused, 5xx, 429, provider throttling:
                              the same call (same idempotency key) may succeed later
      PermanentError          4xx, or the provider said no: retrying will not help
        HostNotAllowed        the URL's host is not on the outbound allow-list
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from orderpilot.adapters.logging import mask_phone

SECRET_NAMES = ("authorization", "sign", "key", "x-orderpilot-signature")
SECRET_ENDINGS = ("token", "secret", "password", "signature")


@dataclass
class CallResult:
    request: dict[str, Any]
    response: Any
    status_code: int | None
    latency_ms: float
    output: dict[str, Any]


class ConnectorError(Exception):
    code = "connector.failed"

    def __init__(self, message: str, *, request: dict[str, Any] | None = None,
                 response: Any = None, status_code: int | None = None,
                 latency_ms: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.request = request or {}
        self.response = response
        self.status_code = status_code
        self.latency_ms = latency_ms


class TransientError(ConnectorError):
    code = "connector.transient"


class PermanentError(ConnectorError):
    code = "connector.permanent"


class HostNotAllowed(PermanentError):
    code = "connector.host_not_allowed"


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_NAMES or lowered.endswith(SECRET_ENDINGS)


def mask(value: Any, key: str = "") -> Any:
    """A copy fit for run history: secrets replaced, phone numbers cut to 138****5678."""
    if key and is_secret(key) and isinstance(value, str | bytes):
        return "***"
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        return mask_phone(value)
    return value


def mask_url(url: httpx.URL) -> str:
    """The URL with secret query parameters (access_token, sign, key) replaced."""
    params = [(k, "***" if is_secret(k) else mask_phone(v)) for k, v in url.params.multi_items()]
    return str(url.copy_with(params=params)) if params else str(url)


def parse_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def failure_for_status(status: int) -> type[ConnectorError] | None:
    if status == 429 or status >= 500:
        return TransientError
    if status >= 400:
        return PermanentError
    return None


def send(client: httpx.Client, request: httpx.Request, record: dict[str, Any],
         what: str) -> tuple[httpx.Response, Any, float]:
    """Send REQUEST; returns (response, parsed body, latency ms) for a 2xx/3xx answer.

    Transport failures and error statuses raise with RECORD (the masked request) attached;
    WHAT names the call in messages ("helpdesk POST /api/tickets").
    """
    started = time.perf_counter()
    try:
        response = client.send(request)
    except httpx.TimeoutException as error:
        raise TransientError(f"{what}: timed out ({error.__class__.__name__})", request=record,
                             latency_ms=_since(started)) from error
    except httpx.TransportError as error:
        raise TransientError(f"{what}: cannot reach {request.url.host}: {error}", request=record,
                             latency_ms=_since(started)) from error
    latency = _since(started)
    body = parse_body(response)
    failure = failure_for_status(response.status_code)
    if failure is not None:
        raise failure(f"{what}: HTTP {response.status_code}: {_short(body)}", request=record,
                      response=body, status_code=response.status_code, latency_ms=latency)
    return response, body, latency


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _short(body: Any, limit: int = 200) -> str:
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= limit else text[:limit] + "…"
