"""Customs settings, read from ORDERPILOT_CUSTOMS_URL (see config.Settings)."""

from __future__ import annotations

from orderpilot.config import Settings
from orderpilot.integrations.registry import HttpConnectorSettings, sim_base


class CustomsSettings(HttpConnectorSettings):
    """Its base URL; rules call it with `http.call` and `connector: customs`."""


def configure(s: Settings) -> CustomsSettings | None:
    sim = sim_base(s)
    url = f"{sim}/customs" if sim else s.customs_url
    return CustomsSettings(base_url=url.rstrip("/")) if url else None
