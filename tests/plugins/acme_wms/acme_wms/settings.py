"""Read from ORDERPILOT_ACME_WMS_URL and ORDERPILOT_ACME_WMS_TOKEN."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from orderpilot.config import Settings
from orderpilot.integrations.registry import HttpConnectorSettings

SIM_TOKEN = "sim-acme-token"  # what the simulator expects


class AcmeWmsEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERPILOT_ACME_WMS_", extra="ignore")

    url: str | None = None
    token: SecretStr | None = None  # write-only: never shown, never logged


class AcmeWmsSettings(HttpConnectorSettings):
    """base_url and token: a named HTTP connector (`connector: acme_wms`)."""


def configure(hub: Settings) -> AcmeWmsSettings | None:
    """Configured by its own variables, or pointed at the loopback simulator (sim_url)."""
    own = AcmeWmsEnvironment()
    if own.url:
        return AcmeWmsSettings(base_url=own.url.rstrip("/"), token=own.token)
    if hub.sim_url:
        return AcmeWmsSettings(base_url=f"{hub.sim_url.rstrip('/')}/acme_wms",
                               token=own.token or SecretStr(SIM_TOKEN))
    return None
