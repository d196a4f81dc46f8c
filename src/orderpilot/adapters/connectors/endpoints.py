"""Where each connector sends its calls and with which credentials, resolved from Settings.

With `sim_url` set every base URL points into the loopback simulator and unset credentials
take SIM values, which the simulators check for real.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from orderpilot.config import Settings
from orderpilot.domain.outbound import Origin, parse_allowlist, parse_origin


@dataclass(frozen=True)
class SimCredentials:
    aliyun_access_key_id: str = "LTAIsimulator0001"
    aliyun_access_key_secret: str = "sim-aliyun-secret"
    tencent_secret_id: str = "AKIDsimulator0001"
    tencent_secret_key: str = "sim-tencent-secret"
    tencent_sdk_app_id: str = "1400000001"
    dingtalk_access_token: str = "sim-dingtalk-token"
    dingtalk_secret: str = "SECsim-dingtalk-secret"
    wecom_key: str = "sim-wecom-key"
    helpdesk_token: str = "sim-helpdesk-token"
    crm_token: str = "sim-crm-token"
    http_hmac_secret: str = "sim-hmac-secret"


SIM = SimCredentials()
# The named HTTP connectors every hub has; ORDERPILOT_HTTP_CONNECTORS adds more.
BUILT_IN_HTTP_CONNECTORS = ("customs", "helpdesk", "crm")
# Path of each connector under the simulator's base URL.
SIM_PATHS = {"customs": "customs", "helpdesk": "helpdesk", "crm": "crm",
             "aliyun": "aliyun-sms", "tencent": "tencent-sms", "dingtalk": "dingtalk",
             "wecom": "wecom"}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool


@dataclass(frozen=True)
class Endpoints:
    """Base URLs by connector name (only the usable ones) and the credentials to use them."""

    urls: dict[str, str]
    tokens: dict[str, str]
    sim_url: str | None
    allowlist: frozenset[str]  # the entries as written
    aliyun: tuple[str, str] | None = None  # access key id, secret
    aliyun_region: str = "cn-hangzhou"
    tencent: tuple[str, str, str] | None = None  # secret id, secret key, sdk app id
    tencent_region: str = "ap-guangzhou"
    dingtalk: tuple[str, str | None] | None = None  # access token, secret
    wecom_key: str | None = None
    smtp: Smtp | None = None
    hmac_secret: str | None = None
    # ORDERPILOT_OUTBOUND_ALLOWLIST parsed; origins() adds the configured base URLs.
    allowed: tuple[Origin, ...] = ()
    # Names an http.call step may give as its connector: the built-in ones and
    # ORDERPILOT_HTTP_CONNECTORS' keys.
    http_connectors: frozenset[str] = frozenset(BUILT_IN_HTTP_CONNECTORS)

    def url_for(self, name: str) -> str | None:
        if name in self.urls:
            return self.urls[name]
        if self.sim_url:  # any further simulator (say "wms") is reachable by its name
            return f"{self.sim_url}/{name}"
        return None

    def origins(self) -> tuple[Origin, ...]:
        """What may be called: the allow-list, and each configured base URL as exactly its
        scheme, host, port and path (no wider)."""
        bases = [*self.urls.values(), *([self.sim_url] if self.sim_url else [])]
        every = list(dict.fromkeys([*self.allowed, *(parse_origin(url) for url in bases)]))
        return tuple(o for o in every if not any(p != o and p.covers(o) for p in every))

    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(("*." if o.wildcard else "") + o.host for o in self.origins())


def endpoints_from_settings(s: Settings) -> Endpoints:
    sim = s.sim_url.rstrip("/") if s.sim_url else None

    def pick(value: str | None, sim_value: str) -> str | None:
        return value if value or not sim else sim_value

    urls = {name: url.rstrip("/") for name, url in s.http_connectors.items()}
    urls.update({name: url.rstrip("/") for name, url in
                 (("customs", s.customs_url), ("helpdesk", s.helpdesk_url), ("crm", s.crm_url))
                 if url})
    aliyun_id = pick(s.aliyun_access_key_id, SIM.aliyun_access_key_id)
    aliyun_secret = pick(s.aliyun_access_key_secret, SIM.aliyun_access_key_secret)
    tencent_id = pick(s.tencent_secret_id, SIM.tencent_secret_id)
    tencent_key = pick(s.tencent_secret_key, SIM.tencent_secret_key)
    tencent_app = pick(s.tencent_sms_sdk_app_id, SIM.tencent_sdk_app_id)
    ding_token = pick(s.dingtalk_access_token, SIM.dingtalk_access_token)
    wecom_key = pick(s.wecom_key, SIM.wecom_key)
    if aliyun_id and aliyun_secret:
        urls["aliyun"] = s.aliyun_sms_url.rstrip("/")
    if tencent_id and tencent_key and tencent_app:
        urls["tencent"] = s.tencent_sms_url.rstrip("/")
    if ding_token:
        urls["dingtalk"] = s.dingtalk_url.rstrip("/")
    if wecom_key:
        urls["wecom"] = s.wecom_url.rstrip("/")
    if sim:
        urls.update({name: f"{sim}/{path}" for name, path in SIM_PATHS.items()})
        urls.update({name: f"{sim}/{name}" for name in s.http_connectors})
    tokens = {name: token for name, token in
              (("helpdesk", pick(s.helpdesk_token, SIM.helpdesk_token)),
               ("crm", pick(s.crm_token, SIM.crm_token))) if token}
    return Endpoints(
        urls=urls, tokens=tokens, sim_url=sim,
        allowlist=frozenset(h.strip().lower() for h in s.outbound_allowlist.split(",")
                            if h.strip()),
        allowed=parse_allowlist(s.outbound_allowlist),
        aliyun=(aliyun_id, aliyun_secret) if aliyun_id and aliyun_secret else None,
        aliyun_region=s.aliyun_sms_region,
        tencent=(tencent_id, tencent_key, tencent_app)
        if tencent_id and tencent_key and tencent_app else None,
        tencent_region=s.tencent_sms_region,
        dingtalk=(ding_token, pick(s.dingtalk_secret, SIM.dingtalk_secret))
        if ding_token else None,
        wecom_key=wecom_key, smtp=_smtp(s, sim),
        hmac_secret=pick(s.http_hmac_secret, SIM.http_hmac_secret),
        http_connectors=frozenset((*BUILT_IN_HTTP_CONNECTORS, *s.http_connectors)))


def _smtp(s: Settings, sim: str | None) -> Smtp | None:
    if sim:
        parts = urlsplit(sim)
        host = s.smtp_host or parts.hostname or "127.0.0.1"
        port = s.smtp_port or (parts.port or 80) + 1
    elif s.smtp_host:
        host, port = s.smtp_host, s.smtp_port or 25
    else:
        return None
    return Smtp(host, port, s.smtp_user, s.smtp_password, s.smtp_from, s.smtp_starttls)
