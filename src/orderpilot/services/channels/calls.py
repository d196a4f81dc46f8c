"""Calling one shop's platform API the way each platform wants to be called: tokens refreshed
before they expire (and once more when the platform says one expired), rate limits waited out
as the platform asks, short 5xx outages retried with backoff. Never inside a transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from orderpilot.domain.channel_orders import (
    Account,
    ChannelError,
    OrderPage,
    PlatformError,
    RateLimited,
    TokenExpired,
    Tokens,
)
from orderpilot.services.channels.ports import ChannelClient, Gateway
from orderpilot.services.unit_of_work import Clock, UowFactory

T = TypeVar("T")
REFRESH_MARGIN = timedelta(minutes=10)
MAX_RATE_WAITS = 20
MAX_TRANSIENT = 4


class _Unsure(ChannelError):
    """A change the platform may or may not have made (its answer was lost)."""


class ShopCalls:
    """One account's client with the platform's manners. ``stats`` counts what happened."""

    def __init__(self, account: Account, gateway: Gateway, uow_factory: UowFactory,
                 clock: Clock, sleep: Callable[[float], None] = time.sleep) -> None:
        self.account, self.gateway = account, gateway
        self.uow_factory, self.clock, self.sleep = uow_factory, clock, sleep
        self.client: ChannelClient = gateway.open(account)
        self.stats = {"rate_limited": 0, "token_refreshed": 0, "retried": 0}

    def call(self, action: Callable[[ChannelClient], T]) -> T:
        self._refresh_if_due()
        refreshed = waits = transient = 0
        while True:
            try:
                return action(self.client)
            except RateLimited as limited:
                waits += 1
                self.stats["rate_limited"] += 1
                if waits > MAX_RATE_WAITS:
                    raise
                self.sleep(limited.retry_after_s)
            except TokenExpired:
                if refreshed:
                    raise
                refreshed += 1
                self.refresh()
            except ChannelError as error:
                if not error.transient or transient >= MAX_TRANSIENT:
                    raise
                transient += 1
                self.stats["retried"] += 1
                self.sleep(min(0.2 * (2 ** transient), 5.0))

    def change_once(self, action: Callable[[Any], None], unanswered: str) -> None:
        """ACTION changes something at the platform (refund, cancel): asked once. A rate limit
        or an expired token is waited out or refreshed and asked again (nothing was done);
        any other transient failure leaves it open whether the platform did it, so it is not
        asked again here: PlatformError (transient) saying UNANSWERED, so the job reads the
        platform first when it runs again."""

        def once(client: Any) -> None:
            try:
                action(client)
            except (RateLimited, TokenExpired):
                raise
            except ChannelError as error:
                if error.transient:
                    raise _Unsure(error.message, transient=False) from None
                raise

        try:
            self.call(once)
        except _Unsure as unsure:
            raise PlatformError(f"{unanswered} ({unsure.message}); it is read again before "
                                f"anything is sent", transient=True) from None

    def list_orders(self, since: datetime, until: datetime, cursor: str | None) -> OrderPage:
        return self.call(lambda c: c.list_orders(since, until, cursor))

    def get_orders(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return self.call(lambda c: c.get_orders(ids))

    def _refresh_if_due(self) -> None:
        expires = self.account.tokens.expires_at
        if expires is not None and expires - self.clock() < REFRESH_MARGIN:
            self.refresh()

    def refresh(self) -> None:
        """New tokens from the platform, kept at once (the old refresh token may now be
        spent), and a client that uses them."""
        tokens: Tokens | None = self.client.refresh()
        if tokens is None:
            raise PlatformError(f"{self.account.platform} says the access token of channel "
                                f"{self.account.code} is no longer valid and it has no refresh;"
                                f" set a new access_token with PUT /api/v1/channels/"
                                f"{self.account.code}", transient=False, status_code=401)
        with self.uow_factory() as uow:
            uow.channels.save_tokens(self.account.code, tokens, self.clock())
        self.account = replace(self.account, tokens=tokens)
        self.client = self.gateway.open(self.account)
        self.stats["token_refreshed"] += 1
