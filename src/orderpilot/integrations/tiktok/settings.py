"""Where TikTok Shop lives: its documented production hosts (nothing to configure).

The Partner API host serves every region (https://partner.tiktokshop.com/docv2/page/
common-parameters); tokens are refreshed on the auth host
(https://partner.tiktokshop.com/docv2/page/authorization-overview-202407). A shop's own
``base_url`` (sandbox, simulator) overrides both for that shop. When the hub runs against
the simulators (``ORDERPILOT_SIM_URL``) the hosts are the simulator's, so the outbound
allow-list opens nothing else.
"""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base
from orderpilot.integrations.tiktok.client import API_HOST, AUTH_HOST


class TikTokHosts(BaseModel):
    api_base_url: str = API_HOST
    auth_base_url: str = AUTH_HOST


def configure(settings: Settings) -> TikTokHosts:
    sim = sim_base(settings)
    if sim:
        return TikTokHosts(api_base_url=f"{sim}/tiktok", auth_base_url=f"{sim}/tiktok")
    return TikTokHosts()


def origins(hosts: TikTokHosts) -> tuple[str, ...]:
    return tuple(dict.fromkeys((hosts.api_base_url, hosts.auth_base_url)))
