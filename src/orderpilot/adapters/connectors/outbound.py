"""What an integration's client factory is given: the hub's guarded way out.

``http_client``'s transport is the outbound guard (guard.OutboundGuard): every request it
sends is checked against the allow-list and pinned to a checked address. ``http`` calls the
named HTTP connectors (base URL, bearer token, the hub's body signature) through that client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from orderpilot.adapters.connectors.http import HttpConnector


@dataclass(frozen=True)
class OutboundContext:
    http_client: httpx.Client
    http: HttpConnector
    check_url: Callable[[str], None]  # HostNotAllowed unless the allow-list covers the URL
    timeout_s: float
    sms_rate_per_second: float
