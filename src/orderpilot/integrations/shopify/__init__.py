"""Shopify (the company's own store): orders by webhook (the body is the whole order) and by
pull over the Admin REST API. See mapping.py for the sources of every format fact."""

from __future__ import annotations

import httpx

from orderpilot.adapters.channels.base import (
    Account,
    ChannelPlatform,
    Clock,
    HookAnswer,
    ReturnSupport,
)
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.shopify import simulator
from orderpilot.integrations.shopify.client import PRODUCTION_HOST, ShopifyClient
from orderpilot.integrations.shopify.mapping import map_order
from orderpilot.integrations.shopify.push import read_push, verify_push
from orderpilot.integrations.shopify.returns import REASON_TAGS, map_return
from orderpilot.integrations.shopify.settings import ShopifySettings, configure, origins
from orderpilot.integrations.shopify.sim_orders import sample_order
from orderpilot.integrations.shopify.statuses import STATUS_ROWS

SOURCES = (
    "https://shopify.dev/docs/api/admin-rest",
    "https://shopify.dev/docs/api/admin-rest/2026-04/resources/order",
    "https://shopify.dev/docs/api/admin-rest/2026-04/resources/refund",
    "https://shopify.dev/docs/api/admin-rest/usage/pagination",
    "https://shopify.dev/docs/api/admin-rest/usage/rate-limits",
    "https://shopify.dev/docs/api/usage/response-codes",
    "https://shopify.dev/docs/apps/build/webhooks/delivery-structure",
    "https://shopify.dev/docs/apps/build/webhooks/verify-deliveries",
    "https://shopify.dev/docs/api/admin-graphql/unstable/enums/orderdisplayfinancialstatus",
    "https://github.com/Shopify/shopify_python_api/blob/main/test/fixtures/order.json",
    "https://shopify.dev/docs/api/webhooks",  # returns/* and refunds/create topics
    "https://shopify.dev/docs/api/admin-graphql/latest/queries/return",
    "https://shopify.dev/docs/api/admin-graphql/latest/enums/ReturnStatus",
    "https://shopify.dev/docs/api/admin-graphql/latest/enums/ReturnReason",
)


def default_base_url(region: str) -> str:
    """Shopify has no regions; the host is the shop's own (``{shop}`` = the account's
    shop_id). The client fills it in: see client.shop_base_url."""
    return PRODUCTION_HOST


def client(account: Account, http: httpx.Client, clock: Clock) -> ShopifyClient:
    return ShopifyClient(account, http, clock)


PLATFORM = ChannelPlatform(
    platform="shopify", title_zh="Shopify 独立站", title_en="Shopify store",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUS_ROWS,
    ack=HookAnswer(200, b"", "text/plain"), fetch_batch=100, push_carries_order=True,
    region_currency={}, sources=SOURCES, sample_order=sample_order,
    returns=ReturnSupport(map_return=map_return, fetch_batch=20, push_carries_return=False,
                          refunds=True, reason_tags=REASON_TAGS))

INTEGRATION = Integration(
    name="shopify", title_zh="Shopify 独立站", title_en="Shopify store",
    provides=frozenset({"order_source"}), settings=ShopifySettings, configure=configure,
    origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a channel account: PUT /api/v1/channels/{code} with platform shopify")
