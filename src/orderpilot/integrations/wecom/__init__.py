"""The WeCom group robot (企业微信机器人): text messages to a group chat."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.registry import Integration, Simulator
from orderpilot.integrations.wecom import simulator
from orderpilot.integrations.wecom.client import WeComRobot
from orderpilot.integrations.wecom.settings import WeComSettings, configure


def client(s: WeComSettings, out: OutboundContext) -> WeComRobot:
    return WeComRobot(out.http_client, s.base_url, s.key.get_secret_value(), out.timeout_s)


INTEGRATION = Integration(
    name="wecom", title_zh="企业微信机器人", title_en="WeCom robot",
    provides=frozenset({"message_channel"}), settings=WeComSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router),
    setup_hint="set ORDERPILOT_WECOM_KEY")
