"""The DingTalk group robot (钉钉机器人): text messages to a group chat."""

from __future__ import annotations

from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.integrations.dingtalk import simulator
from orderpilot.integrations.dingtalk.client import DingTalkRobot
from orderpilot.integrations.dingtalk.settings import DingTalkSettings, configure
from orderpilot.integrations.registry import Integration, Simulator, secret


def client(s: DingTalkSettings, out: OutboundContext) -> DingTalkRobot:
    return DingTalkRobot(out.http_client, s.base_url, s.access_token.get_secret_value(),
                         secret(s.secret), out.timeout_s)


INTEGRATION = Integration(
    name="dingtalk", title_zh="钉钉机器人", title_en="DingTalk robot",
    provides=frozenset({"message_channel"}), settings=DingTalkSettings, configure=configure,
    client=client, simulator=Simulator(simulator.router),
    setup_hint="set ORDERPILOT_DINGTALK_ACCESS_TOKEN")
