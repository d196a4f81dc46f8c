"""WooCommerce (an own WordPress store): orders by webhook and by REST API v3 pull.

Every store is its own site: a channel account needs ``base_url`` (the site URL, e.g.
``https://shop.example.com``); there is no production host to fall back to, so
``default_base_url`` gives "" and the client refuses an account without one.
"""

from __future__ import annotations

import httpx

from orderpilot.adapters.channels.base import Account, ChannelPlatform, Clock, HookAnswer
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.woocommerce import simulator
from orderpilot.integrations.woocommerce.client import WooCommerceClient
from orderpilot.integrations.woocommerce.mapping import map_order
from orderpilot.integrations.woocommerce.push import read_push, verify_push
from orderpilot.integrations.woocommerce.sample import make_order
from orderpilot.integrations.woocommerce.settings import (
    WooCommerceSettings,
    configure,
    origins,
)
from orderpilot.integrations.woocommerce.statuses import STATUSES

SOURCES = (
    "https://woocommerce.github.io/woocommerce-rest-api-docs/#orders",
    "https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks",
    "https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication",
    "https://woocommerce.github.io/woocommerce-rest-api-docs/#pagination",
    "https://github.com/woocommerce/woocommerce-rest-api-docs/blob/trunk/source/includes/"
    "wp-api-v3/_orders.md",
    "https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/"
    "class-wc-webhook.php",
    "https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/"
    "rest-api/Controllers/Version3/class-wc-rest-crud-controller.php",
    "https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/"
    "rest-api/Controllers/Version2/class-wc-rest-orders-v2-controller.php",
    "https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/includes/"
    "class-wc-rest-authentication.php",
    "https://github.com/woocommerce/woocommerce/blob/trunk/plugins/woocommerce/src/Enums/"
    "OrderStatus.php",
)


def default_base_url(region: str) -> str:
    """No default: each WooCommerce store is its own host (the account's base_url)."""
    return ""


def client(account: Account, http: httpx.Client, clock: Clock) -> WooCommerceClient:
    return WooCommerceClient(account, http, clock)


PLATFORM = ChannelPlatform(
    platform="woocommerce", title_zh="WooCommerce 独立站", title_en="WooCommerce store",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUSES,
    ack=HookAnswer(200, b"", "text/plain"),  # any 2xx (301/302 too) counts as delivered
    fetch_batch=100, push_carries_order=True, region_currency={}, sources=SOURCES,
    sample_order=lambda number, at: make_order(number, at))

INTEGRATION = Integration(
    name="woocommerce", title_zh="WooCommerce 独立站", title_en="WooCommerce store",
    provides=frozenset({"order_source"}), settings=WooCommerceSettings, configure=configure,
    origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="PUT /api/v1/channels/{code} with platform woocommerce, base_url (the site "
               "URL) and consumer_key, consumer_secret, webhook_secret")
