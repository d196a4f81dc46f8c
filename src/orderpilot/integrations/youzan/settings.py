"""Youzan's hosts: one documented production host for tokens and API calls.

The shop's own values (client_id, client_secret, kdt_id) are channel-account credentials
(PUT /api/v1/channels/{code}), not process settings; an account's ``base_url`` overrides the
host (tests, the simulator).
"""

from __future__ import annotations

from pydantic import BaseModel

from orderpilot.config import Settings
from orderpilot.integrations.registry import sim_base
from orderpilot.integrations.youzan.client import HOST


class YouzanHostsSettings(BaseModel):
    """``base_url``: https://open.youzanyun.com (``/auth/token`` and ``/api/...``)."""

    base_url: str = HOST


def configure(s: Settings) -> YouzanHostsSettings:
    """The production host; with ORDERPILOT_SIM_URL, the simulator's (as every system)."""
    sim = sim_base(s)
    return YouzanHostsSettings(base_url=f"{sim}/youzan") if sim else YouzanHostsSettings()


def origins(s: YouzanHostsSettings) -> tuple[str, ...]:
    return (s.base_url,)
