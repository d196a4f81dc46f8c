"""Where the hub may send calls: the named HTTP connectors, every configured integration's
base URLs, and the allow-list (ORDERPILOT_OUTBOUND_ALLOWLIST).

Each integration reads its own settings (integrations/<system>/settings.py); with `sim_url` set
they point into the loopback simulator and unset credentials take the SIM values below, which
the simulators check for real.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

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


@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the named HTTP connectors (only the usable ones), their bearer tokens, and
    the base URLs of every other configured integration."""

    urls: dict[str, str]
    tokens: dict[str, str]
    sim_url: str | None
    allowlist: frozenset[str]  # the entries as written
    hmac_secret: str | None = None
    # ORDERPILOT_OUTBOUND_ALLOWLIST parsed; origins() adds the configured base URLs.
    allowed: tuple[Origin, ...] = ()
    bases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # integration -> URLs

    def url_for(self, name: str) -> str | None:
        if name in self.urls:
            return self.urls[name]
        if self.sim_url:  # any further simulator is reachable by its name
            return f"{self.sim_url}/{name}"
        return None

    def origins(self) -> tuple[Origin, ...]:
        """What may be called: the allow-list, and each configured base URL as exactly its
        scheme, host, port and path (no wider)."""
        return self._origins

    @cached_property
    def _origins(self) -> tuple[Origin, ...]:
        # Worked out once: every outside call checks its URL against it (profiled: 6% of a
        # worker's CPU under bench rules when it was worked out per call). Endpoints is frozen.
        bases = [*self.urls.values(), *(u for urls in self.bases.values() for u in urls),
                 *([self.sim_url] if self.sim_url else [])]
        every = list(dict.fromkeys([*self.allowed, *(parse_origin(url) for url in bases)]))
        return tuple(o for o in every if not any(p != o and p.covers(o) for p in every))

    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(("*." if o.wildcard else "") + o.host for o in self.origins())


def endpoints_from_settings(s: Settings, connectors: Mapping[str, tuple[str, str | None]],
                            bases: Iterable[tuple[str, tuple[str, ...]]] = ()) -> Endpoints:
    """CONNECTORS: the configured integrations reached as named HTTP connectors, each as
    (base URL, bearer token); BASES: every other configured integration's base URLs."""
    sim = s.sim_url.rstrip("/") if s.sim_url else None
    urls = {name: url.rstrip("/") for name, url in s.http_connectors.items()}
    if sim:
        urls.update({name: f"{sim}/{name}" for name in s.http_connectors})
    urls.update({name: url for name, (url, _) in connectors.items()})
    tokens = {name: token for name, (_, token) in connectors.items() if token}
    hmac_secret = s.http_hmac_secret or (SIM.http_hmac_secret if sim else None)
    return Endpoints(
        urls=urls, tokens=tokens, sim_url=sim,
        allowlist=frozenset(h.strip().lower() for h in s.outbound_allowlist.split(",")
                            if h.strip()),
        allowed=parse_allowlist(s.outbound_allowlist), hmac_secret=hmac_secret,
        bases=dict(bases))
