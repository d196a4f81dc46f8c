"""DingTalk robot settings, read from ORDERPILOT_DINGTALK_* (see config.Settings)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import pick, sim_base


class DingTalkSettings(BaseModel):
    base_url: str
    access_token: SecretStr
    secret: SecretStr | None = None  # the robot's signing secret ("SEC...")


def configure(s: Settings) -> DingTalkSettings | None:
    sim = sim_base(s)
    token = pick(s.dingtalk_access_token, SIM.dingtalk_access_token, sim)
    if not token:
        return None
    secret = pick(s.dingtalk_secret, SIM.dingtalk_secret, sim)
    return DingTalkSettings(base_url=f"{sim}/dingtalk" if sim else s.dingtalk_url.rstrip("/"),
                            access_token=SecretStr(token),
                            secret=SecretStr(secret) if secret else None)
