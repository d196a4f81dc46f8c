"""Shopee Open Platform v2 (虾皮): orders by push (order status push, code 3) and by pull
(get_order_list by update time, get_order_detail), token refresh, and the lost-push API;
returns by pull (get_return_list by update time, get_return_detail) and refunds through
Shopee (returns/confirm); the seller's cancellation (order/cancel_order). See
docs/channels/shopee.md."""

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
from orderpilot.integrations.shopee import sim_cancel, sim_returns, simulator
from orderpilot.integrations.shopee.client import CANCEL_REASONS, FETCH_BATCH, default_base_url
from orderpilot.integrations.shopee.mapping import REGION_CURRENCY, STATUSES, map_order
from orderpilot.integrations.shopee.push import read_push, verify_push
from orderpilot.integrations.shopee.return_client import ShopeeReturnsClient
from orderpilot.integrations.shopee.return_mapping import REASON_TAGS, map_return
from orderpilot.integrations.shopee.sample_orders import sample_order
from orderpilot.integrations.shopee.settings import ShopeeHosts, configure, origins

SOURCES = (
    "https://open.shopee.com/developer-guide/16",  # API domains, common parameters, sign
    "https://open.shopee.com/developer-guide/18",  # push mechanism, Authorization, answer
    "https://open.shopee.com/developer-guide/20",  # authorisation, token lifetimes
    "https://open.shopee.com/developer-guide/31",  # data definition: OrderStatus
    "https://open.shopee.com/documents/v2/v2.order.get_order_list?module=94&type=1",
    "https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1",
    "https://open.shopee.com/documents/v2/v2.payment.get_escrow_detail_batch?module=97&type=1",
    "https://open.shopee.com/documents/v2/v2.public.refresh_access_token?module=104&type=1",
    "https://open.shopee.com/documents/v2/v2.push.get_lost_push_message?module=105&type=1",
    "https://open.shopee.com/documents/v2/"
    "v2.push.confirm_consumed_lost_push_message?module=105&type=1",
    "https://open.shopee.com/documents/v2/v2.returns.get_return_list?module=102&type=1",
    "https://open.shopee.com/documents/v2/v2.returns.get_return_detail?module=102&type=1",
    "https://open.shopee.com/documents/v2/v2.returns.confirm?module=102&type=1",
    "https://open.shopee.com/documents/v2/v2.order.cancel_order?module=94&type=1",
    # Return & Refund Management guide: ReturnStatus, ReturnReason, confirm -> ACCEPTED
    "https://github.com/lazykern/ecommerce-api-docs/blob/main/data/processed/shopee/guides/"
    "api-best-practices/return-refund-management.md",
    # ReturnStatus with REFUND_PAID
    "https://github.com/LightsoftHub/open-platforms/blob/main/src/ShopeeSdk.Core/Enums/"
    "ReturnStatus.cs",
    "https://github.com/congminh1254/shopee-sdk/tree/main/schemas",  # the reference as JSON
    "https://github.com/lazykern/ecommerce-api-docs",  # the developer guides as Markdown
)


def client(account: Account, http: httpx.Client, clock: Clock) -> ShopeeReturnsClient:
    return ShopeeReturnsClient(account, http, clock)


simulator.router.include_router(sim_returns.router)
simulator.admin_router.include_router(sim_returns.admin)
simulator.router.include_router(sim_cancel.router)


PLATFORM = ChannelPlatform(
    platform="shopee", title_zh="Shopee 虾皮", title_en="Shopee",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUSES,
    ack=HookAnswer(status=200, body=b""), fetch_batch=FETCH_BATCH, push_carries_order=False,
    region_currency=REGION_CURRENCY, sources=SOURCES, sample_order=sample_order,
    returns=ReturnSupport(map_return=map_return, fetch_batch=20, refunds=True,
                          reason_tags=REASON_TAGS),
    cancel_reasons=CANCEL_REASONS)

INTEGRATION = Integration(
    name="shopee", title_zh="Shopee 虾皮", title_en="Shopee",
    provides=frozenset({"order_source"}), settings=ShopeeHosts, configure=configure,
    origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a Shopee shop with PUT /api/v1/channels/{code} (partner_id, partner_key, "
               "access_token, refresh_token)")
