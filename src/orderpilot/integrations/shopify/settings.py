"""Shopify settings: nothing to configure globally. Each shop is a channel account
(``PUT /api/v1/channels/{code}`` with ``shop_id`` = its myshopify sub-domain); the hosts
the hub may call are every shop's Admin API, ``https://*.myshopify.com/admin/api``, or
the simulator's ``<sim_url>/shopify`` when the hub runs against the simulators."""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base

SHOP_HOSTS = ("https://*.myshopify.com/admin/api",)


class ShopifySettings(BaseModel):
    """The documented production hosts (one per shop, so a wildcard)."""

    hosts: tuple[str, ...] = SHOP_HOSTS


def configure(s: Settings) -> ShopifySettings:
    sim = sim_base(s)
    return ShopifySettings(hosts=(f"{sim}/shopify",)) if sim else ShopifySettings()


def origins(settings: ShopifySettings) -> tuple[str, ...]:
    return settings.hosts
