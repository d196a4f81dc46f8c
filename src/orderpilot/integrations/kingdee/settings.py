"""Kingdee settings, read from ORDERPILOT_KINGDEE_* (see config.Settings). With
ORDERPILOT_SIM_URL set and nothing else, they point at the simulator with its test account."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr

from orderpilot.config import Settings
from orderpilot.integrations.kingdee import simulator
from orderpilot.integrations.registry import pick, sim_base


class KingdeeSettings(BaseModel):
    base_url: str  # .../k3cloud: the services are {base_url}/{service}.common.kdsvc
    acct_id: str
    username: str
    app_id: str
    app_secret: SecretStr
    lcid: int = 2052
    org_number: str = "100"
    auth_mode: Literal["app_secret", "signed"] = "app_secret"
    auto_audit: bool = True
    batch_size: int = 50
    receivables_minutes: float = 5


def configure(s: Settings) -> KingdeeSettings | None:
    sim = sim_base(s)
    url = s.kingdee_url or (f"{sim}/{simulator.NAME}/k3cloud" if sim else None)
    acct_id = pick(s.kingdee_acct_id, simulator.SIM_ACCT_ID, sim)
    username = pick(s.kingdee_username, simulator.SIM_USERNAME, sim)
    app_id = pick(s.kingdee_app_id, simulator.SIM_APP_ID, sim)
    app_secret = pick(s.kingdee_app_secret, simulator.SIM_APP_SECRET, sim)
    if not (url and acct_id and username and app_id and app_secret):
        return None
    return KingdeeSettings(
        base_url=url.rstrip("/"), acct_id=acct_id, username=username, app_id=app_id,
        app_secret=SecretStr(app_secret), lcid=s.kingdee_lcid, org_number=s.kingdee_org_number,
        auth_mode=s.kingdee_auth_mode, auto_audit=s.kingdee_auto_audit,
        batch_size=s.kingdee_batch_size, receivables_minutes=s.kingdee_receivables_minutes)
