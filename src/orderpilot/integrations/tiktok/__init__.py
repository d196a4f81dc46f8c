"""TikTok Shop (Partner API 202309): orders by webhook and by pull, for one shop per account.

Credentials (PUT /api/v1/channels/{code}): ``app_key``, ``app_secret``, ``access_token``,
``shop_cipher``; the refresh token goes in the account's tokens. See docs/channels/tiktok.md.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import ChannelPlatform, HookAnswer
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.tiktok import simulator
from orderpilot.integrations.tiktok.client import client, default_base_url
from orderpilot.integrations.tiktok.mapping import REGION_CURRENCY, map_order
from orderpilot.integrations.tiktok.push import read_push, verify_push
from orderpilot.integrations.tiktok.samples import sample_order
from orderpilot.integrations.tiktok.settings import TikTokHosts, configure, origins
from orderpilot.integrations.tiktok.statuses import STATUSES

SOURCES = (
    "https://partner.tiktokshop.com/docv2/page/sign-your-api-request",
    "https://partner.tiktokshop.com/docv2/page/common-parameters",
    "https://partner.tiktokshop.com/docv2/page/common-errors",
    "https://partner.tiktokshop.com/docv2/page/64f1991d64ed2e0295f3d2c0",
    "https://partner.tiktokshop.com/docv2/page/get-order-list-202309",
    "https://partner.tiktokshop.com/docv2/page/get-order-detail-202309",
    "https://partner.tiktokshop.com/docv2/page/get-authorized-shops",
    "https://partner.tiktokshop.com/docv2/page/authorization-overview-202407",
    "https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview",
    "https://partner.tiktokshop.com/docv2/page/1-order-status-change",
)

PLATFORM = ChannelPlatform(
    platform="tiktok", title_zh="TikTok Shop", title_en="TikTok Shop",
    default_base_url=default_base_url, client=client, verify_push=verify_push,
    read_push=read_push, map_order=map_order, statuses=STATUSES,
    ack=HookAnswer(200, b"", "text/plain"), fetch_batch=50, push_carries_order=False,
    region_currency=REGION_CURRENCY, sources=SOURCES, sample_order=sample_order)

INTEGRATION = Integration(
    name="tiktok", title_zh="TikTok Shop 抖音国际电商", title_en="TikTok Shop",
    provides=frozenset({"order_source"}), settings=TikTokHosts, configure=configure,
    origins=origins,
    simulator=Simulator(simulator.router, admin=simulator.admin_router, reset=simulator.reset),
    channel=PLATFORM,
    setup_hint="add a TikTok Shop account with PUT /api/v1/channels/{code}")
