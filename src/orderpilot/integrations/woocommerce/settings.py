"""WooCommerce settings: nothing global. Every store is its own host, given per channel account
as ``base_url`` (PUT /api/v1/channels/{code}); with the hub pointed at the simulator its
WooCommerce origin is allowed too."""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base


class WooCommerceSettings(BaseModel):
    """The hosts the hub may call for WooCommerce without a channel account naming them: none
    in production (each account's site URL is its own origin), the simulator's in tests."""

    hosts: tuple[str, ...] = ()


def configure(s: Settings) -> WooCommerceSettings:
    sim = sim_base(s)
    return WooCommerceSettings(hosts=(f"{sim}/woocommerce",) if sim else ())


def origins(settings: WooCommerceSettings) -> tuple[str, ...]:
    return settings.hosts
