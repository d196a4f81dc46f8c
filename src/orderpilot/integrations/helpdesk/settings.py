"""Helpdesk settings: ORDERPILOT_HELPDESK_URL, ORDERPILOT_HELPDESK_TOKEN (config.Settings)."""

from __future__ import annotations

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import HttpConnectorSettings, pick, sim_base


class HelpdeskSettings(HttpConnectorSettings):
    """Its base URL and the bearer token every call carries."""


def configure(s: Settings) -> HelpdeskSettings | None:
    sim = sim_base(s)
    url = f"{sim}/helpdesk" if sim else s.helpdesk_url
    if not url:
        return None
    token = pick(s.helpdesk_token, SIM.helpdesk_token, sim)
    return HelpdeskSettings(base_url=url.rstrip("/"), token=token)
