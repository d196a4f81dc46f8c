"""Shopify settings: nothing to configure globally. Each shop is a channel account
(``PUT /api/v1/channels/{code}`` with ``shop_id`` = its myshopify sub-domain); the hosts
the hub may call are every shop's Admin API, ``https://*.myshopify.com/admin/api``."""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings

SHOP_HOSTS = ("https://*.myshopify.com/admin/api",)


class ShopifySettings(BaseModel):
    """The documented production hosts (one per shop, so a wildcard)."""

    hosts: tuple[str, ...] = SHOP_HOSTS


def configure(s: Settings) -> ShopifySettings:
    return ShopifySettings()


def origins(settings: ShopifySettings) -> tuple[str, ...]:
    return settings.hosts
