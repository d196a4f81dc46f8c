"""Aliyun SMS (阿里云短信): templated messages to buyers, looked up by key before a resend."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.aliyun_sms import simulator
from orderpilot.integrations.aliyun_sms.client import AliyunSms
from orderpilot.integrations.aliyun_sms.settings import AliyunSmsSettings, configure
from orderpilot.integrations.registry import Integration, Simulator


def client(s: AliyunSmsSettings, out: OutboundContext) -> AliyunSms:
    return AliyunSms(out.http_client, s.base_url, s.access_key_id,
                     s.access_key_secret.get_secret_value(), s.region,
                     out.sms_rate_per_second, out.timeout_s)


INTEGRATION = Integration(
    name="aliyun-sms", title_zh="阿里云短信", title_en="Aliyun SMS",
    provides=frozenset({"message_channel"}), settings=AliyunSmsSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router),
    setup_hint="set ORDERPILOT_ALIYUN_ACCESS_KEY_ID and ORDERPILOT_ALIYUN_ACCESS_KEY_SECRET")
