"""CRM settings: ORDERPILOT_CRM_URL and ORDERPILOT_CRM_TOKEN (see config.Settings)."""

from __future__ import annotations

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import HttpConnectorSettings, pick, sim_base


class CrmSettings(HttpConnectorSettings):
    """Its base URL and the bearer token every call carries."""


def configure(s: Settings) -> CrmSettings | None:
    sim = sim_base(s)
    url = f"{sim}/crm" if sim else s.crm_url
    if not url:
        return None
    token = pick(s.crm_token, SIM.crm_token, sim)
    return CrmSettings(base_url=url.rstrip("/"), token=token)
