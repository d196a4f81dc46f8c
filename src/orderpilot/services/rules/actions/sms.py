"""sms.send: send a registered SMS template (Aliyun or Tencent) to a phone; the provider can
be asked, by the key sent as OutId / SessionContext, whether it went out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypedDict

from orderpilot.domain.rules.actions import ActionType, Checks, MessageKind, param
from orderpilot.domain.rules.problems import Problems
from orderpilot.services.rules.actions.base import (
    Answer,
    Cached,
    Found,
    Output,
    Outside,
    Params,
    RuleAction,
    SentMessage,
    SmsProviderName,
    StepCall,
    StepRefused,
)
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType("sms.send", "发送短信", "Send an SMS", (
    param("template", "sms_template", "短信模板代码", "Template code", required=True),
    param("params", "mapping", "模板参数", "Template parameters"),
    param("phone", "template", "手机号", "Phone", default="{{ order.customer.phone }}")),
    external=True, internal=False, outputs={"biz_id": "text"},
    message=MessageKind("短信", "SMS"), default_step_id="sms")


def check(params: dict[str, Any], where: str, problems: Problems, checks: Checks) -> None:
    """The template is registered and is given exactly its parameters."""
    if "template" not in params:
        return
    code = params["template"]
    needed = checks.sms_templates.get(code)
    if needed is None:
        known = ", ".join(sorted(checks.sms_templates)) or "none yet"
        problems.add(f"{where}.template", f"SMS template {code!r} is not registered "
                                          f"(registered: {known})",
                     f"短信模板 {code!r} 未登记（已登记："
                     f"{'、'.join(sorted(checks.sms_templates)) or '暂无'}）")
        return
    given = params.get("params", {})
    missing = [n for n in needed if n not in given]
    if missing:
        problems.add(f"{where}.params", f"template {code} needs "
                                        f"{', '.join(missing)} as parameter(s)",
                     f"模板 {code} 需要参数：{'、'.join(missing)}")
    extra = [n for n in given if n not in needed]
    if extra:
        problems.add(f"{where}.params", f"template {code} has no parameter(s) "
                                        f"{', '.join(extra)}",
                     f"模板 {code} 没有这些参数：{'、'.join(extra)}")


class Registered(TypedDict):
    code: str
    provider: SmsProviderName
    sign_name: str
    params: list[str]


def registered(uow: UnitOfWork, code: str) -> Registered:
    row = uow.sms_templates.get(code)
    if row is None:
        raise StepRefused(f"SMS template {code} is no longer registered", field="template",
                          zh=f"短信模板 {code} 已不再登记")
    provider: SmsProviderName
    if row.provider == "aliyun":
        provider = "aliyun"
    elif row.provider == "tencent":
        provider = "tencent"
    else:
        raise StepRefused(f"SMS template {code} names an unknown provider {row.provider!r}",
                          field="template",
                          zh=f"短信模板 {code} 的服务商 {row.provider!r} 未知")
    return {"code": row.code, "provider": provider, "sign_name": row.sign_name,
            "params": list(row.params)}


def with_template(cached: Cached, params: Params) -> Params:
    """The registered template (provider, code, sign name) the call sends."""
    code = str(params["template"])
    template = cached(f"sms-template:{code}", lambda uow: registered(uow, code))
    return {**params, "_template": template}


def send(outside: Outside, call: StepCall, hub_output: Output,
         hmac_secret: str | None) -> Answer:
    p = call.params
    template = p["_template"]
    values = {k: str(v) for k, v in (p.get("params") or {}).items()}
    return outside.send_sms(template["provider"], str(p["phone"]), template["code"], values,
                            template["sign_name"], idempotency_key=call.key)


def find_sent(outside: Outside, call: StepCall, since: datetime) -> Found:
    p = call.params
    return outside.sms_find_sent(p["_template"]["provider"], str(p["phone"]), call.key, since)


def read_sent(request: dict[str, Any]) -> SentMessage:
    """Phone, template, signature and parameters from an Aliyun or a Tencent request."""
    inner = request.get("body")
    body: dict[str, Any] = inner if isinstance(inner, dict) else request
    values: Any = body.get("TemplateParam") or body.get("TemplateParamSet") or {}
    if isinstance(values, str):
        try:
            values = json.loads(values)
        except ValueError:
            values = {"": values}
    return SentMessage(
        to=body.get("PhoneNumbers") or ", ".join(body.get("PhoneNumberSet") or []),
        template=body.get("TemplateCode") or body.get("TemplateId") or "",
        sign_name=body.get("SignName") or "",
        params=values if isinstance(values, dict)
        else {str(n): v for n, v in enumerate(values, 1)})


ACTION = RuleAction(TYPE, call=send, look_up=find_sent, check=check, prepare=with_template,
                    read_sent=read_sent)
