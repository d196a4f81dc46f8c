"""WeCom robot settings, read from ORDERPILOT_WECOM_* (see config.Settings)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import pick, sim_base


class WeComSettings(BaseModel):
    base_url: str
    key: SecretStr


def configure(s: Settings) -> WeComSettings | None:
    sim = sim_base(s)
    key = pick(s.wecom_key, SIM.wecom_key, sim)
    if not key:
        return None
    return WeComSettings(base_url=f"{sim}/wecom" if sim else s.wecom_url.rstrip("/"),
                         key=SecretStr(key))
