"""notify.wecom: post a message to a WeCom group robot. No look-up exists."""

from __future__ import annotations

from orderpilot.domain.rules.actions import ActionType, MessageKind, param
from orderpilot.services.rules.actions import robots
from orderpilot.services.rules.actions.base import Answer, Output, Outside, RuleAction, StepCall

TYPE = ActionType("notify.wecom", "企业微信群通知", "WeCom group message", (
    param("text", "template", "消息内容", "Message", required=True),),
    external=True, internal=False, message=MessageKind("企业微信", "WeCom"),
    default_step_id="wecom")


def post(outside: Outside, call: StepCall, hub_output: Output,
         hmac_secret: str | None) -> Answer:
    return outside.notify_wecom(str(call.params["text"]), idempotency_key=call.key)


ACTION = RuleAction(
    TYPE, call=post, read_sent=robots.read_sent,
    unchecked_resend="WeCom robots offer no look-up and ignore Idempotency-Key: after a crash "
                     "during the call the message may be posted twice")
