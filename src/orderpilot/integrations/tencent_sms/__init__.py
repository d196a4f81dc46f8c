"""Tencent Cloud SMS (腾讯云短信): templated messages to buyers, looked up by key before a
resend."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.tencent_sms import simulator
from orderpilot.integrations.tencent_sms.client import TencentSms
from orderpilot.integrations.tencent_sms.settings import TencentSmsSettings, configure


def client(s: TencentSmsSettings, out: OutboundContext) -> TencentSms:
    return TencentSms(out.http_client, s.base_url, s.secret_id, s.secret_key.get_secret_value(),
                      s.sdk_app_id, s.region, out.sms_rate_per_second, out.timeout_s)


INTEGRATION = Integration(
    name="tencent-sms", title_zh="腾讯云短信", title_en="Tencent Cloud SMS",
    provides=frozenset({"message_channel"}), settings=TencentSmsSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router),
    setup_hint="set ORDERPILOT_TENCENT_SECRET_ID, ORDERPILOT_TENCENT_SECRET_KEY and "
               "ORDERPILOT_TENCENT_SMS_SDK_APP_ID")
