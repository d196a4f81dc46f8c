"""Aliyun SMS settings, read from ORDERPILOT_ALIYUN_* (see config.Settings)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import pick, sim_base


class AliyunSmsSettings(BaseModel):
    base_url: str
    access_key_id: str
    access_key_secret: SecretStr
    region: str = "cn-hangzhou"


def configure(s: Settings) -> AliyunSmsSettings | None:
    sim = sim_base(s)
    key_id = pick(s.aliyun_access_key_id, SIM.aliyun_access_key_id, sim)
    key_secret = pick(s.aliyun_access_key_secret, SIM.aliyun_access_key_secret, sim)
    if not (key_id and key_secret):
        return None
    return AliyunSmsSettings(base_url=f"{sim}/aliyun-sms" if sim else s.aliyun_sms_url.rstrip("/"),
                             access_key_id=key_id, access_key_secret=SecretStr(key_secret),
                             region=s.aliyun_sms_region)
