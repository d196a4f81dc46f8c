"""The WeCom (企业微信) group robot: a webhook addressed by its key."""

from __future__ import annotations

import httpx

from orderpilot.adapters.connectors.base import CallResult
from orderpilot.adapters.connectors.robot_text import post_text

WECOM_RETRY = {45009, 45033, -1}  # api frequency limit; concurrency limit; system busy


def notify_wecom(client: httpx.Client, base_url: str, key: str, text: str,
                 idempotency_key: str, timeout_s: float) -> CallResult:
    return post_text(client, f"{base_url}/cgi-bin/webhook/send", {"key": key}, text,
                     idempotency_key, timeout_s, "wecom robot", WECOM_RETRY)


class WeComRobot:
    def __init__(self, client: httpx.Client, base_url: str, key: str, timeout_s: float) -> None:
        self.client, self.base_url, self.key, self.timeout_s = client, base_url, key, timeout_s

    def notify(self, text: str, idempotency_key: str) -> CallResult:
        return notify_wecom(self.client, self.base_url, self.key, text, idempotency_key,
                            self.timeout_s)
