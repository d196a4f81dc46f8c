"""WMS settings: the `wms` entry of ORDERPILOT_HTTP_CONNECTORS (see config.Settings)."""

from __future__ import annotations

from orderpilot.config import Settings
from orderpilot.integrations.registry import HttpConnectorSettings, sim_base


class WmsSettings(HttpConnectorSettings):
    """Its base URL; the inventory puller asks it for stock (`GET api/stock?warehouse=`)."""


def configure(s: Settings) -> WmsSettings | None:
    sim = sim_base(s)
    url = f"{sim}/wms" if sim else s.http_connectors.get("wms")
    return WmsSettings(base_url=url.rstrip("/")) if url else None
