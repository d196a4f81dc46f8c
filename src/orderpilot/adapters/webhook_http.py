"""The webhook sender's way out: the connectors' guarded HTTP client (allow-list checked on
the URL, and again on the resolved address by the guard transport), no redirects followed."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from orderpilot.services.webhooks import Answer

READ_CHARS = 4000  # of the receiver's answer; the delivery log keeps less


class GuardedPoster:
    def __init__(self, client: httpx.Client, check_url: Callable[[str], None]) -> None:
        self.client, self.check_url = client, check_url

    def post(self, url: str, headers: Mapping[str, str], body: bytes,
             timeout_s: float) -> Answer:
        self.check_url(url)  # HostNotAllowed: the allow-list no longer covers it
        response = self.client.post(url, content=body, headers=dict(headers), timeout=timeout_s)
        return Answer(response.status_code, response.text[:READ_CHARS])
