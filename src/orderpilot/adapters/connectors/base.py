"""What every connector returns or raises (the classes live in domain/errors.py and
domain/outside_calls.py, so the service layer catches them without importing adapters):

    ConnectorError            a call did not do what was asked; carries what was sent
      TransientError          timeout, connection refused, 5xx, 429, provider throttling:
                              the same call (same idempotency key) may succeed later
      PermanentError          4xx, or the provider said no: retrying will not help
        HostNotAllowed        the URL is not plain http(s), or no allow-list entry covers its
                              scheme, host, port and path
          AddressNotAllowed   the host resolved to an address its entry does not permit
        Redirected            a 3xx answer: redirects are never followed nor taken as success
        ResponseTooLarge      the answer is longer than the hub will read

Sending a request and turning its answer into a CallResult or one of these errors is here.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from orderpilot.domain.errors import (
    AddressNotAllowed,
    ConnectorError,
    HostNotAllowed,
    PermanentError,
    Redirected,
    ResponseTooLarge,
    TransientError,
)
from orderpilot.domain.masking import mask_phones_in as mask_phone
from orderpilot.domain.outside_calls import (
    ADDRESS_KEYS,
    NAME_KEYS,
    SECRET_ENDINGS,
    SECRET_NAMES,
    STORED_RESPONSE_BYTES,
    CallResult,
    is_secret,
    mask,
    stored,
)

__all__ = ["ADDRESS_KEYS", "NAME_KEYS", "SECRET_ENDINGS", "SECRET_NAMES", "STORED_RESPONSE_BYTES",
           "AddressNotAllowed", "CallResult", "ConnectorError", "HostNotAllowed",
           "PermanentError", "Redirected", "ResponseTooLarge", "TransientError", "is_secret",
           "mask", "mask_url", "parse_body", "send", "stored"]


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
    """Send REQUEST; returns (response, parsed body, latency ms) for a 2xx answer.

    Transport failures, refusals, redirects and error statuses raise with RECORD (the masked
    request) attached; WHAT names the call in messages ("helpdesk POST /api/tickets").
    """
    started = time.perf_counter()
    try:
        response = client.send(request)
    except ConnectorError as error:  # refused by the outbound guard, or the answer too long
        error.request = error.request or record
        error.latency_ms = _since(started)
        raise
    except httpx.TimeoutException as error:
        raise TransientError(f"{what}: timed out ({error.__class__.__name__})", request=record,
                             latency_ms=_since(started)) from error
    except httpx.TransportError as error:
        raise TransientError(f"{what}: cannot reach {request.url.host}: {error}", request=record,
                             latency_ms=_since(started)) from error
    latency = _since(started)
    body = parse_body(response)
    if response.is_redirect or 300 <= response.status_code < 400:
        location = _masked_location(response.headers.get("Location"))
        raise Redirected(f"{what}: HTTP {response.status_code} redirect to {location}; "
                         f"redirects are not followed: call the final URL (and allow it)",
                         request=record, response=body, status_code=response.status_code,
                         latency_ms=latency)
    failure = failure_for_status(response.status_code)
    if failure is not None:
        raise failure(f"{what}: HTTP {response.status_code}: {_short(mask(body))}",
                      request=record, response=body, status_code=response.status_code,
                      latency_ms=latency)
    return response, body, latency


def _masked_location(location: str | None) -> str:
    if not location:
        return "(no Location header)"
    try:
        return mask_url(httpx.URL(location)).replace("%2A", "*")  # 138****5678, readable
    except httpx.InvalidURL:
        return repr(mask_phone(location[:200]))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _short(body: Any, limit: int = 200) -> str:
    text = body if isinstance(body, str) else repr(body)
    return text if len(text) <= limit else text[:limit] + "…"
