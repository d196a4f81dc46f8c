"""The actions a rule can take, their parameters, and how each is checked at save time.

Internal actions change the hub's own data in one transaction with the step's record, so they
happen exactly once. External ones call another system outside any transaction, carrying an
idempotency key the receiving side uses to drop a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from orderpilot.domain.rules.problems import Problems

TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PRIORITIES = ("low", "normal", "high", "urgent")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Param:
    name: str
    # text | template | code | int | number | bool | enum | tags | mapping | json | connector
    # (connector: a named HTTP connector, one of Checks.connectors)
    kind: str
    zh: str
    en: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


@dataclass(frozen=True)
class ActionType:
    id: str
    zh: str
    en: str
    params: tuple[Param, ...]
    external: bool  # calls another system
    internal: bool  # changes the hub's own data
    outputs: dict[str, str] = field(default_factory=dict)  # name -> type, for later `if`s


def _p(name: str, kind: str, zh: str, en: str, **kw: Any) -> Param:
    return Param(name, kind, zh, en, **kw)


ACTION_TYPES: dict[str, ActionType] = {a.id: a for a in (
    ActionType("order.hold", "冻结订单", "Hold the order", (
        _p("reason", "code", "冻结原因代码", "Reason code", required=True),
        _p("note", "template", "备注", "Note"),
        _p("release_after_minutes", "int", "自动解冻(分钟)", "Release after (minutes)")),
        external=False, internal=True, outputs={"hold_id": "text"}),
    ActionType("order.release", "解除冻结", "Release holds", (
        _p("reason", "code", "只解除此原因", "Only this reason"),
        _p("note", "template", "备注", "Note")),
        external=False, internal=True, outputs={"released": "number"}),
    ActionType("order.tag", "订单打标", "Tag the order", (
        _p("tags", "tags", "标签", "Tags", required=True),
        _p("remove", "bool", "移除这些标签", "Remove these tags", default=False)),
        external=False, internal=True, outputs={"tags": "tags"}),
    ActionType("order.set_field", "设置订单字段", "Set an order field", (
        _p("name", "code", "字段名", "Field name", required=True),
        _p("value", "template", "值", "Value", required=True)),
        external=False, internal=True, outputs={"value": "text"}),
    ActionType("sms.send", "发送短信", "Send an SMS", (
        _p("template", "text", "短信模板代码", "Template code", required=True),
        _p("params", "mapping", "模板参数", "Template parameters"),
        _p("phone", "template", "手机号", "Phone", default="{{ order.customer.phone }}")),
        external=True, internal=False, outputs={"biz_id": "text"}),
    ActionType("http.call", "调用接口", "Call an HTTP service", (
        _p("method", "enum", "方法", "Method", choices=HTTP_METHODS, default="POST"),
        _p("connector", "connector", "连接器", "Connector"),
        _p("path", "text", "路径", "Path"),
        _p("url", "text", "完整地址", "Full URL"),
        _p("headers", "mapping", "请求头", "Headers"),
        _p("body", "json", "请求体(JSON模板)", "JSON body template"),
        _p("timeout_s", "number", "超时(秒)", "Timeout (s)", default=5),
        _p("sign", "bool", "HMAC签名", "Sign with HMAC", default=False),
        _p("output", "mapping", "输出映射", "Map the response to outputs")),
        external=True, internal=False,
        outputs={"status_code": "number", "qualified": "bool", "reference": "text"}),
    ActionType("ticket.create", "创建客服工单", "Open a service ticket", (
        _p("title", "template", "标题", "Title", required=True),
        _p("body", "template", "内容", "Details"),
        _p("priority", "enum", "优先级", "Priority", choices=PRIORITIES, default="normal"),
        _p("tags", "tags", "标签", "Tags"),
        _p("webhook", "bool", "同步到外部客服系统", "Also send to the helpdesk", default=False)),
        external=False, internal=True, outputs={"ticket_id": "text"}),
    ActionType("crm.tag", "客户打标(CRM)", "Tag the customer (CRM)", (
        _p("tags", "tags", "客户标签", "Customer tags", required=True),
        _p("push", "bool", "推送到CRM", "Push to the CRM", default=True)),
        external=False, internal=True, outputs={"tags": "tags"}),
    ActionType("email.send", "发送邮件", "Send an email", (
        _p("to", "template", "收件人", "To", required=True),
        _p("subject", "template", "主题", "Subject", required=True),
        _p("body", "template", "正文", "Body")),
        external=True, internal=False),
    ActionType("notify.dingtalk", "钉钉群通知", "DingTalk group message", (
        _p("text", "template", "消息内容", "Message", required=True),),
        external=True, internal=False),
    ActionType("notify.wecom", "企业微信群通知", "WeCom group message", (
        _p("text", "template", "消息内容", "Message", required=True),),
        external=True, internal=False),
    ActionType("table.lookup", "查决策表", "Look up a decision table", (
        _p("table", "code", "决策表", "Decision table", required=True),),
        external=False, internal=False),
)}

# Hybrid actions: an internal effect, then optionally an external push.
PUSHES = {"ticket.create": "webhook", "crm.tag": "push"}


def pushes(action_type: str, params: dict[str, Any]) -> bool:
    flag = PUSHES.get(action_type)
    if flag is None:
        return ACTION_TYPES[action_type].external
    default = next(p.default for p in ACTION_TYPES[action_type].params if p.name == flag)
    return bool(params.get(flag, default))


@dataclass
class Checks:
    """What validation needs to know about the hub; services provide it."""

    sms_templates: dict[str, tuple[str, ...]]  # code -> parameter names
    tables: dict[str, tuple[str, ...]]  # name -> output fields
    check_url: Callable[[str], str | None]  # a message when the host is not allowed
    check_expression: Callable[[str], str | None]  # a message when it does not parse
    strict: bool = True  # False when loading a stored version: the register may have moved on
    connectors: frozenset[str] = frozenset()  # named HTTP connectors the outbound side offers


def check_params(action: str, params: Any, where: str, problems: Problems,
                 checks: Checks) -> dict[str, Any]:
    kind = ACTION_TYPES[action]
    if not isinstance(params, dict):
        problems.add(where, "params must be an object")
        return {}
    known = {p.name: p for p in kind.params}
    for name in set(params) - set(known):
        problems.add(f"{where}.{name}", f"{action} has no parameter {name!r}; it takes "
                                        f"{', '.join(known)}")
    clean: dict[str, Any] = {}
    for name, param in known.items():
        if name not in params or params[name] in (None, ""):
            if param.required:
                problems.add(f"{where}.{name}", f"{param.en} is required")
            elif param.default is not None:
                clean[name] = param.default
            continue
        clean[name] = _check_param(param, params[name], f"{where}.{name}", problems, checks)
    _check_specific(action, clean, where, problems, checks)
    return clean


def _check_param(param: Param, value: Any, where: str, problems: Problems,
                 checks: Checks) -> Any:
    kind = param.kind
    if kind in ("text", "template", "code", "connector"):
        if not isinstance(value, str) or len(value) > 2000:
            problems.add(where, "needs text (at most 2000 characters)")
            return ""
        if kind == "code" and not CODE.match(value):
            problems.add(where, "lowercase letters, digits and _, 2-64 characters")
        if kind == "template":
            check_template(value, where, problems, checks)
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 43200:
            problems.add(where, "a whole number between 1 and 43200")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value <= 30:
            problems.add(where, "a number of seconds between 0 and 30")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            problems.add(where, "true or false")
        return bool(value)
    if kind == "enum":
        if value not in param.choices:
            problems.add(where, f"one of {', '.join(param.choices)}")
        return value
    if kind == "tags":
        if not isinstance(value, list) or not value or not all(
                isinstance(t, str) and 0 < len(t.strip()) <= 40 for t in value):
            problems.add(where, "a list of tags of 1 to 40 characters")
            return []
        return [t.strip() for t in value]
    if kind == "mapping":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in value.items()):
            problems.add(where, "an object of names to text values")
            return {}
        for k, v in value.items():
            check_template(v, f"{where}.{k}", problems, checks)
        return value
    _check_json(value, where, problems, checks, 0)
    return value


def _check_json(value: Any, where: str, problems: Problems, checks: Checks, depth: int) -> None:
    if depth > 8:
        problems.add(where, "the body nests too deep")
    elif isinstance(value, str):
        check_template(value, where, problems, checks)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_json(v, f"{where}.{k}", problems, checks, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]", problems, checks, depth + 1)


def check_template(text: str, where: str, problems: Problems, checks: Checks) -> None:
    for match in TEMPLATE.finditer(text):
        message = checks.check_expression(match.group(1).strip())
        if message:
            problems.add(where, f"{{{{ {match.group(1).strip()} }}}}: {message}")


def _check_specific(action: str, params: dict[str, Any], where: str, problems: Problems,
                    checks: Checks) -> None:
    if not checks.strict:
        return
    if action == "sms.send" and "template" in params:
        code = params["template"]
        needed = checks.sms_templates.get(code)
        if needed is None:
            known = ", ".join(sorted(checks.sms_templates)) or "none yet"
            problems.add(f"{where}.template", f"SMS template {code!r} is not registered "
                                              f"(registered: {known})")
        else:
            given = params.get("params", {})
            missing = [n for n in needed if n not in given]
            if missing:
                problems.add(f"{where}.params", f"template {code} needs "
                                                f"{', '.join(missing)} as parameter(s)")
            extra = [n for n in given if n not in needed]
            if extra:
                problems.add(f"{where}.params", f"template {code} has no parameter(s) "
                                                f"{', '.join(extra)}")
    if action == "http.call":
        has_url, has_connector = bool(params.get("url")), bool(params.get("connector"))
        if has_url == has_connector:
            problems.add(where, "give either a connector (with a path) or a full url")
        if has_url:
            _check_url(params["url"], f"{where}.url", problems, checks)
        if has_connector and params["connector"] not in checks.connectors:
            known = ", ".join(sorted(checks.connectors)) or "none"
            problems.add(f"{where}.connector", f"no HTTP connector named "
                                               f"{params['connector']!r} (configured: {known})")
        path = params.get("path", "")
        if has_connector and path and not path.startswith("/"):
            problems.add(f"{where}.path", "a path starts with /")
    if action == "table.lookup" and params.get("table") not in checks.tables \
            and "table" in params:
        problems.add(f"{where}.table", f"no decision table named {params['table']!r}")


def _check_url(url: str, where: str, problems: Problems, checks: Checks) -> None:
    """The URL's scheme, host and port are fixed text on the allow-list; only the path and
    query may hold templates (the call is checked again, rendered, when it is made)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError as error:  # "http://[::1" and the like
        problems.add(where, f"not a valid URL: {error}")
        return
    if "{{" in netloc or "{%" in netloc:
        problems.add(where, "the host part of the URL may not be a template")
        return
    message = checks.check_url(TEMPLATE.sub("x", url))
    if message:
        problems.add(where, message)
