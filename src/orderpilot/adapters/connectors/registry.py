"""`Connectors`: every configured integration's client behind one object, built from Settings
and the integration registry (integrations/registry.py).

It owns one httpx.Client, whose transport is the outbound guard, and hands only that client to
the integrations' client factories; close() it when done. Every URL is checked against the
allow-list when a rule is saved (check_url) and again, with the addresses its host resolves
to, by the guard when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel

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
from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.adapters.connectors.sms_provider import SmsProvider
from orderpilot.config import Settings
from orderpilot.domain.outbound import BadUrl, address_refusal, parse_target, refusal
from orderpilot.integrations.registry import HttpConnectorSettings, IntegrationRegistry, secret

if TYPE_CHECKING:
    from orderpilot.integrations.crm.client import Crm
    from orderpilot.integrations.dingtalk.client import DingTalkRobot
    from orderpilot.integrations.helpdesk.client import Helpdesk
    from orderpilot.integrations.smtp.client import Mailer
    from orderpilot.integrations.wecom.client import WeComRobot

# The SMS provider a template names -> the integration that sends through it.
SMS_PROVIDERS = {"aliyun": "aliyun-sms", "tencent": "tencent-sms"}


class Connectors:
    def __init__(self, endpoints: Endpoints, http_client: httpx.Client,
                 integrations: IntegrationRegistry, configured: dict[str, BaseModel],
                 timeout_s: float = 5, sms_rate_per_second: float = 10,
                 stored_response_bytes: int = STORED_RESPONSE_BYTES) -> None:
        """HTTP_CLIENT should come from from_settings(): its transport is the outbound guard.
        CONFIGURED: each configured integration's settings, by name."""
        self.endpoints, self.http_client, self.timeout_s = endpoints, http_client, timeout_s
        self.integrations, self.configured = integrations, configured
        self.stored_response_bytes = stored_response_bytes
        self.http = HttpConnector(http_client, endpoints, timeout_s, self.check_url)
        context = OutboundContext(http_client, self.http, self.check_url, timeout_s,
                                  sms_rate_per_second)
        self._clients = {i.name: i.client(configured[i.name], context) for i in integrations
                         if i.client is not None and i.name in configured}
        self.sms: dict[str, SmsProvider] = {
            provider: client for provider, name in SMS_PROVIDERS.items()
            if isinstance(client := self._clients.get(name), SmsProvider)}

    @classmethod
    def from_settings(cls, settings: Settings, transport: httpx.BaseTransport | None = None,
                      resolver: Resolver | None = None,
                      integrations: IntegrationRegistry | None = None) -> Connectors:
        """TRANSPORT (tests: httpx.MockTransport) stands in for the network behind the guard;
        RESOLVER (tests: a dict lookup) for DNS. INTEGRATIONS: the registry the composition
        root built (default: the built-in ones)."""
        integrations = integrations or IntegrationRegistry.discover(installed=False)
        configured = integrations.configured(settings)
        connectors = {}
        for name, values in configured.items():
            if isinstance(values, HttpConnectorSettings) \
                    and "http_connector" in integrations.get(name).provides:
                connectors[name] = (values.base_url, secret(values.token))
        bases = [(name, integrations.get(name).origins(values))
                 for name, values in configured.items() if name not in connectors]
        endpoints = endpoints_from_settings(settings, connectors, bases)
        guard = OutboundGuard(endpoints.origins(), resolver=resolver or system_resolver,
                              max_response_bytes=settings.outbound_response_max_bytes,
                              inner=transport)
        # trust_env=False: an HTTP(S)_PROXY variable would otherwise route around the guard.
        client = httpx.Client(transport=guard, follow_redirects=False, trust_env=False,
                              timeout=settings.outbound_timeout_seconds,
                              headers={"User-Agent": "orderpilot-connectors"})
        return cls(endpoints, client, integrations, configured,
                   settings.outbound_timeout_seconds, settings.sms_rate_per_second,
                   settings.outbound_response_store_bytes)

    def client(self, integration: str) -> object:
        """The named integration's client; PermanentError (saying what to set) when it is
        not configured or has no client of its own."""
        found = self._clients.get(integration)
        if found is None:
            if integration not in self.integrations:
                raise PermanentError(f"no integration {integration!r} (installed: "
                                     f"{', '.join(self.integrations.names())})")
            declared = self.integrations.get(integration)
            if declared.client is None:
                raise PermanentError(f"{integration} has no client; call it with http.call "
                                     f"and connector {integration!r}")
            raise PermanentError(f"{integration} is not configured: {declared.setup_hint}")
        return found

    def connector_names(self) -> frozenset[str]:
        """The names an http.call step's `connector` may use: every integration that is a
        named HTTP connector, and the keys of ORDERPILOT_HTTP_CONNECTORS."""
        return frozenset({*(i.name for i in self.integrations.providing("http_connector")),
                          *self.endpoints.urls})

    def close(self) -> None:
        self.http_client.close()

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
        mailer: Mailer = self._typed("smtp")
        return mailer.send(to, subject, body_text, idempotency_key)

    def notify_dingtalk(self, text: str, idempotency_key: str) -> CallResult:
        robot: DingTalkRobot = self._typed("dingtalk")
        self.check_url(robot.base_url)
        return self._kept(lambda: robot.notify(text, idempotency_key))

    def notify_wecom(self, text: str, idempotency_key: str) -> CallResult:
        robot: WeComRobot = self._typed("wecom")
        self.check_url(robot.base_url)
        return self._kept(lambda: robot.notify(text, idempotency_key))

    def helpdesk_create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> CallResult:
        helpdesk: Helpdesk = self._typed("helpdesk")
        return self._kept(lambda: helpdesk.create_ticket(ticket, idempotency_key))

    def crm_push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> CallResult:
        crm: Crm = self._typed("crm")
        return self._kept(lambda: crm.push_tags(phone, tags, idempotency_key))

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
        helpdesk: Helpdesk = self._typed("helpdesk")
        return helpdesk.find_ticket(idempotency_key)

    def crm_find_tag_push(self, idempotency_key: str) -> SentRecord:
        crm: Crm = self._typed("crm")
        return crm.find_tag_push(idempotency_key)

    def _typed(self, integration: str) -> Any:
        """client(INTEGRATION) for the facade's own methods, which name its type."""
        return self.client(integration)
