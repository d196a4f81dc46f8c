"""The sales-channel platforms of this hub and a client per account, on the guarded client."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from orderpilot.adapters.channels.base import ChannelPlatform
from orderpilot.domain.channel_orders import Account
from orderpilot.services.channels.ports import ChannelClient, Platform


class ChannelGateway:
    def __init__(self, platforms: Mapping[str, ChannelPlatform], http_client: httpx.Client,
                 clock: Callable[[], datetime], check_url: Callable[[str], None]) -> None:
        """HTTP_CLIENT: the connectors' client, whose transport is the outbound guard."""
        self._platforms = dict(platforms)
        self.http_client, self.clock, self._check_url = http_client, clock, check_url

    def platforms(self) -> Mapping[str, Platform]:
        return self._platforms

    def platform(self, name: str) -> ChannelPlatform:
        return self._platforms[name]

    def open(self, account: Account) -> ChannelClient:
        client: ChannelClient = self._platforms[account.platform].client(
            account, self.http_client, self.clock)
        return client

    def check_url(self, url: str) -> None:
        self._check_url(url)
