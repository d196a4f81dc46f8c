"""`Connectors`: every outbound connector behind one object, built from Settings.

It owns one httpx.Client; close() it when done. Every URL is checked against the allow-list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from orderpilot.adapters.connectors import crm, helpdesk, mail, robots
from orderpilot.adapters.connectors.base import CallResult, HostNotAllowed, PermanentError
from orderpilot.adapters.connectors.endpoints import Endpoints, endpoints_from_settings
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.sms import AliyunSms, SmsProvider, TencentSms
from orderpilot.config import Settings


class Connectors:
    def __init__(self, endpoints: Endpoints, client: httpx.Client, timeout_s: float = 5,
                 sms_rate_per_second: float = 10) -> None:
        self.endpoints, self.client, self.timeout_s = endpoints, client, timeout_s
        self.http = HttpConnector(client, endpoints, timeout_s, self.check_url)
        self.sms: dict[str, SmsProvider] = {}
        if endpoints.aliyun:
            self.sms["aliyun"] = AliyunSms(client, endpoints.urls["aliyun"], *endpoints.aliyun,
                                           endpoints.aliyun_region, sms_rate_per_second,
                                           timeout_s)
        if endpoints.tencent:
            self.sms["tencent"] = TencentSms(client, endpoints.urls["tencent"],
                                             *endpoints.tencent, endpoints.tencent_region,
                                             sms_rate_per_second, timeout_s)

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.BaseTransport | None = None) -> Connectors:
        client = httpx.Client(transport=transport, follow_redirects=False,
                              timeout=settings.outbound_timeout_seconds,
                              headers={"User-Agent": "orderpilot-connectors"})
        return cls(endpoints_from_settings(settings), client,
                   settings.outbound_timeout_seconds, settings.sms_rate_per_second)

    def close(self) -> None:
        self.client.close()

    def allowed_hosts(self) -> frozenset[str]:
        return self.endpoints.allowed_hosts()

    def check_url(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise PermanentError(f"not a valid URL: {url!r} ({error})") from error
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise PermanentError(f"not an http(s) URL with a host: {url!r}")
        host, allowed = parsed.host.lower(), self.allowed_hosts()
        if host in allowed or any(a.startswith("*.") and host.endswith(a[1:]) for a in allowed):
            return
        listed = ", ".join(sorted(allowed)) or "nothing"
        raise HostNotAllowed(f"host {host!r} is not on the outbound allow-list ({listed}); "
                             f"add it to ORDERPILOT_OUTBOUND_ALLOWLIST",
                             request={"url": url})

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", headers: Mapping[str, str] | None = None,
                  json_body: Any = None, timeout_s: float | None = None,
                  hmac_secret: str | None = None, idempotency_key: str) -> CallResult:
        return self.http.call(method, url, connector=connector, path=path, headers=headers,
                              json_body=json_body, timeout_s=timeout_s,
                              hmac_secret=hmac_secret, idempotency_key=idempotency_key)

    def send_sms(self, provider: Literal["aliyun", "tencent"], phone: str, template_code: str,
                 params: dict[str, str], sign_name: str, idempotency_key: str) -> CallResult:
        sender = self.sms.get(provider)
        if sender is None:
            raise PermanentError(f"SMS provider {provider!r} is not configured "
                                 f"(configured: {', '.join(sorted(self.sms)) or 'none'})")
        self.check_url(sender.base_url)
        return sender.send(phone, template_code, params, sign_name, idempotency_key)

    def sms_find_sent(self, provider: Literal["aliyun", "tencent"], phone: str,
                      idempotency_key: str, since: datetime) -> SentRecord:
        sender = self.sms.get(provider)
        if sender is None:
            raise PermanentError(f"SMS provider {provider!r} is not configured "
                                 f"(configured: {', '.join(sorted(self.sms)) or 'none'})")
        self.check_url(sender.base_url)
        return sender.find_sent(phone, idempotency_key, since)

    def send_email(self, to: str, subject: str, body_text: str,
                   idempotency_key: str) -> CallResult:
        if self.endpoints.smtp is None:
            raise PermanentError("email is not configured: set ORDERPILOT_SMTP_HOST")
        return mail.send_email(self.endpoints.smtp, to, subject, body_text, idempotency_key,
                               self.timeout_s)

    def notify_dingtalk(self, text: str, idempotency_key: str) -> CallResult:
        if self.endpoints.dingtalk is None:
            raise PermanentError("dingtalk robot is not configured: "
                                 "set ORDERPILOT_DINGTALK_ACCESS_TOKEN")
        base = self.endpoints.urls["dingtalk"]
        self.check_url(base)
        token, secret = self.endpoints.dingtalk
        return robots.notify_dingtalk(self.client, base, token, secret, text, idempotency_key,
                                      self.timeout_s)

    def notify_wecom(self, text: str, idempotency_key: str) -> CallResult:
        if self.endpoints.wecom_key is None:
            raise PermanentError("wecom robot is not configured: set ORDERPILOT_WECOM_KEY")
        base = self.endpoints.urls["wecom"]
        self.check_url(base)
        return robots.notify_wecom(self.client, base, self.endpoints.wecom_key, text,
                                   idempotency_key, self.timeout_s)

    def helpdesk_create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> CallResult:
        return helpdesk.create_ticket(self.http, ticket, idempotency_key)

    def crm_push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> CallResult:
        return crm.push_tags(self.http, phone, tags, idempotency_key)

    def helpdesk_find_ticket(self, idempotency_key: str) -> SentRecord:
        return helpdesk.find_ticket(self.http, idempotency_key)

    def crm_find_tag_push(self, idempotency_key: str) -> SentRecord:
        return crm.find_tag_push(self.http, idempotency_key)
