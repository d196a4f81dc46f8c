"""Shopee's hosts: not configured per deployment (each shop is a channel account, set with
PUT /api/v1/channels/{code}); the settings only name the documented production hosts so the
outbound allow-list lets them through, and the simulator when the hub points at it."""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base

# https://open.shopee.com/developer-guide/16 "API domains": production for developers near
# Singapore, Chinese Mainland and the Americas.
PRODUCTION_HOSTS = ("https://partner.shopeemobile.com", "https://openplatform.shopee.cn",
                    "https://openplatform.shopee.com.br")


class ShopeeHosts(BaseModel):
    """The base URLs a Shopee channel account may call."""

    hosts: tuple[str, ...] = PRODUCTION_HOSTS


def configure(s: Settings) -> ShopeeHosts:
    """Always configured: the production hosts, or only the simulator when the hub points at
    it (then nothing leaves the machine)."""
    sim = sim_base(s)
    return ShopeeHosts(hosts=(f"{sim}/shopee",) if sim else PRODUCTION_HOSTS)


def origins(settings: ShopeeHosts) -> tuple[str, ...]:
    return settings.hosts
