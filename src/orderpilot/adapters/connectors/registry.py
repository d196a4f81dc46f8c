"""`Connectors`: every outbound connector behind one object, built from Settings.

It owns one httpx.Client; close() it when done. Every URL is checked against the allow-list
when a rule is saved (check_url) and again, with the addresses its host resolves to, by the
client's transport (guard.OutboundGuard) when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from orderpilot.adapters.connectors import crm, helpdesk, mail, robots
from orderpilot.adapters.connectors.base import (
    STORED_RESPONSE_BYTES,
    CallResult,
    ConnectorError,
    HostNotAllowed,
    PermanentError,
)
from orderpilot.adapters.connectors.endpoints import Endpoints, endpoints_from_settings
from orderpilot.adapters.connectors.guard import (
    ALLOWLIST_SETTING,
    OutboundGuard,
    Resolver,
    system_resolver,
    target_of,
)
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.sms import AliyunSms, SmsProvider, TencentSms
from orderpilot.config import Settings
from orderpilot.domain.outbound import BadUrl, address_refusal, parse_target, refusal


class Connectors:
    def __init__(self, endpoints: Endpoints, client: httpx.Client, timeout_s: float = 5,
                 sms_rate_per_second: float = 10,
                 stored_response_bytes: int = STORED_RESPONSE_BYTES) -> None:
        """CLIENT should come from from_settings(): its transport is the outbound guard."""
        self.endpoints, self.client, self.timeout_s = endpoints, client, timeout_s
        self.stored_response_bytes = stored_response_bytes
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
    def from_settings(cls, settings: Settings, transport: httpx.BaseTransport | None = None,
                      resolver: Resolver | None = None) -> Connectors:
        """TRANSPORT (tests: httpx.MockTransport) stands in for the network behind the guard;
        RESOLVER (tests: a dict lookup) for DNS."""
        endpoints = endpoints_from_settings(settings)
        guard = OutboundGuard(endpoints.origins(), resolver=resolver or system_resolver,
                              max_response_bytes=settings.outbound_response_max_bytes,
                              inner=transport)
        # trust_env=False: an HTTP(S)_PROXY variable would otherwise route around the guard.
        client = httpx.Client(transport=guard, follow_redirects=False, trust_env=False,
                              timeout=settings.outbound_timeout_seconds,
                              headers={"User-Agent": "orderpilot-connectors"})
        return cls(endpoints, client, settings.outbound_timeout_seconds,
                   settings.sms_rate_per_second, settings.outbound_response_store_bytes)

    def close(self) -> None:
        self.client.close()

    def connector_names(self) -> frozenset[str]:
        """The names an http.call step may give as its connector."""
        return self.endpoints.http_connectors

    def allowed_hosts(self) -> frozenset[str]:
        return self.endpoints.allowed_hosts()

    def check_url(self, url: str) -> None:
        """HostNotAllowed unless URL is plain http(s) and an allow-list entry covers its scheme,
        host, port and path (an IP literal must also be one its entry permits). Names are
        resolved and checked when called, not here."""
        try:
            target = parse_target(url)
            as_sent = target_of(httpx.URL(url))
        except (BadUrl, httpx.InvalidURL, ValueError) as error:  # ValueError: bad IDNA
            raise HostNotAllowed(str(error), request={"url": url}) from error
        if (as_sent.scheme, as_sent.host, as_sent.port) != (target.scheme, target.host,
                                                            target.port):
            raise HostNotAllowed(f"{url!r} is ambiguous: it could be read as going to "
                                 f"{target} or to {as_sent}", request={"url": url})
        origins = self.endpoints.origins()
        message = (refusal(target, origins, ALLOWLIST_SETTING)
                   or refusal(as_sent, origins, ALLOWLIST_SETTING))
        if message is None and target.ip is not None:
            message = address_refusal(target, origins, [target.ip])
        if message:
            raise HostNotAllowed(message, request={"url": url})

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", headers: Mapping[str, str] | None = None,
                  json_body: Any = None, timeout_s: float | None = None,
                  hmac_secret: str | None = None, idempotency_key: str) -> CallResult:
        return self._kept(lambda: self.http.call(
            method, url, connector=connector, path=path, headers=headers, json_body=json_body,
            timeout_s=timeout_s, hmac_secret=hmac_secret, idempotency_key=idempotency_key))

    def send_sms(self, provider: Literal["aliyun", "tencent"], phone: str, template_code: str,
                 params: dict[str, str], sign_name: str, idempotency_key: str) -> CallResult:
        sender = self.sms.get(provider)
        if sender is None:
            raise PermanentError(f"SMS provider {provider!r} is not configured "
                                 f"(configured: {', '.join(sorted(self.sms)) or 'none'})")
        self.check_url(sender.base_url)
        return self._kept(lambda: sender.send(phone, template_code, params, sign_name,
                                              idempotency_key))

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
        return self._kept(lambda: robots.notify_dingtalk(
            self.client, base, token, secret, text, idempotency_key, self.timeout_s))

    def notify_wecom(self, text: str, idempotency_key: str) -> CallResult:
        if self.endpoints.wecom_key is None:
            raise PermanentError("wecom robot is not configured: set ORDERPILOT_WECOM_KEY")
        base = self.endpoints.urls["wecom"]
        self.check_url(base)
        key = self.endpoints.wecom_key
        return self._kept(lambda: robots.notify_wecom(self.client, base, key, text,
                                                      idempotency_key, self.timeout_s))

    def helpdesk_create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> CallResult:
        return self._kept(lambda: helpdesk.create_ticket(self.http, ticket, idempotency_key))

    def crm_push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> CallResult:
        return self._kept(lambda: crm.push_tags(self.http, phone, tags, idempotency_key))

    def _kept(self, call: Callable[[], CallResult]) -> CallResult:
        """CALL's result or error, keeping the configured share of the answer in run history."""
        try:
            result = call()
        except ConnectorError as error:
            error.store_limit = self.stored_response_bytes
            raise
        result.store_limit = self.stored_response_bytes
        return result

    def helpdesk_find_ticket(self, idempotency_key: str) -> SentRecord:
        return helpdesk.find_ticket(self.http, idempotency_key)

    def crm_find_tag_push(self, idempotency_key: str) -> SentRecord:
        return crm.find_tag_push(self.http, idempotency_key)
