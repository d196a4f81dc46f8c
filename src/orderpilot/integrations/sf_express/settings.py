"""SF Express settings: ORDERPILOT_SF_URL, ORDERPILOT_SF_PARTNER_ID (顾客编码),
ORDERPILOT_SF_CHECKWORD (校验码), ORDERPILOT_SF_POLL_MINUTES, ORDERPILOT_SF_PUSH_TOKEN (see
config.Settings).

With ORDERPILOT_SIM_URL set and nothing else, it points at the simulator with its test values.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from orderpilot.config import Settings
from orderpilot.integrations.registry import pick, secret, sim_base
from orderpilot.integrations.sf_express.simulator import SIM_CREDENTIALS


class SfSettings(BaseModel):
    base_url: str  # the std/service endpoint every call is POSTed to
    partner_id: str
    checkword: SecretStr
    poll_minutes: float = 30
    # SF's documented JSON route push carries no signature: the push URL carries this token.
    push_token: SecretStr | None = None


def configure(s: Settings) -> SfSettings | None:
    sim = sim_base(s)
    partner = pick(s.sf_partner_id, SIM_CREDENTIALS["partner_id"], sim)
    checkword = pick(secret(s.sf_checkword), SIM_CREDENTIALS["checkword"], sim)
    if not partner or not checkword:
        return None
    url = f"{sim}/sf_express/std/service" if sim and not s.sf_partner_id else s.sf_url
    return SfSettings(base_url=url, partner_id=partner, checkword=SecretStr(checkword),
                      poll_minutes=s.sf_poll_minutes, push_token=s.sf_push_token)
