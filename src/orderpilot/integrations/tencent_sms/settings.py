"""Tencent Cloud SMS settings, read from ORDERPILOT_TENCENT_* (see config.Settings)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.integrations.registry import pick, sim_base


class TencentSmsSettings(BaseModel):
    base_url: str
    secret_id: str
    secret_key: SecretStr
    sdk_app_id: str
    region: str = "ap-guangzhou"


def configure(s: Settings) -> TencentSmsSettings | None:
    sim = sim_base(s)
    secret_id = pick(s.tencent_secret_id, SIM.tencent_secret_id, sim)
    secret_key = pick(s.tencent_secret_key, SIM.tencent_secret_key, sim)
    app_id = pick(s.tencent_sms_sdk_app_id, SIM.tencent_sdk_app_id, sim)
    if not (secret_id and secret_key and app_id):
        return None
    return TencentSmsSettings(
        base_url=f"{sim}/tencent-sms" if sim else s.tencent_sms_url.rstrip("/"),
        secret_id=secret_id, secret_key=SecretStr(secret_key), sdk_app_id=app_id,
        region=s.tencent_sms_region)
