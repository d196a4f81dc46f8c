"""The DingTalk group robot: a signed webhook (access token, timestamp + secret signature)."""

from __future__ import annotations

import time

import httpx

from orderpilot.adapters.connectors.base import CallResult
from orderpilot.adapters.connectors.robot_text import post_text
from orderpilot.adapters.connectors.signing import dingtalk_sign

DINGTALK_RETRY = {130101, -1}  # sending too fast; system busy


def notify_dingtalk(client: httpx.Client, base_url: str, access_token: str,
                    secret: str | None, text: str, idempotency_key: str,
                    timeout_s: float) -> CallResult:
    params = {"access_token": access_token}
    if secret:
        timestamp = int(time.time() * 1000)
        params.update(timestamp=str(timestamp), sign=dingtalk_sign(secret, timestamp))
    return post_text(client, f"{base_url}/robot/send", params, text, idempotency_key,
                     timeout_s, "dingtalk robot", DINGTALK_RETRY)


class DingTalkRobot:
    def __init__(self, client: httpx.Client, base_url: str, access_token: str,
                 secret: str | None, timeout_s: float) -> None:
        self.client, self.base_url, self.timeout_s = client, base_url, timeout_s
        self.access_token, self.secret = access_token, secret

    def notify(self, text: str, idempotency_key: str) -> CallResult:
        return notify_dingtalk(self.client, self.base_url, self.access_token, self.secret,
                               text, idempotency_key, self.timeout_s)
