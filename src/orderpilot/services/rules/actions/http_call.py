"""http.call: call an HTTP service, by full URL (on the allow-list) or by a named connector,
optionally signed; the response's paths may become outputs. No look-up exists."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.rules.actions import ActionType, Checks, check_url, param
from orderpilot.domain.rules.problems import Problems
from orderpilot.services.rules.actions.base import (
    Answer,
    Output,
    Outside,
    RuleAction,
    StepCall,
)

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

TYPE = ActionType("http.call", "调用接口", "Call an HTTP service", (
    param("method", "enum", "方法", "Method", choices=HTTP_METHODS, default="POST"),
    param("connector", "connector", "连接器", "Connector"),
    param("path", "text", "路径", "Path"),
    param("url", "text", "完整地址", "Full URL"),
    param("headers", "mapping", "请求头", "Headers"),
    param("body", "json", "请求体(JSON模板)", "JSON body template"),
    param("timeout_s", "number", "超时(秒)", "Timeout (s)", default=5),
    param("sign", "bool", "HMAC签名", "Sign with HMAC", default=False),
    param("output", "mapping", "输出映射", "Map the response to outputs")),
    external=True, internal=False,
    outputs={"status_code": "number", "qualified": "bool", "reference": "text"},
    default_step_id="call", output_param="output")


def check(params: dict[str, Any], where: str, problems: Problems, checks: Checks) -> None:
    """Either a named connector the hub offers (with a path) or a URL on the allow-list."""
    has_url, has_connector = bool(params.get("url")), bool(params.get("connector"))
    if has_url == has_connector:
        problems.add(where, "give either a connector (with a path) or a full url",
                     "请填写连接器（及路径）或完整网址，二选一")
    if has_url:
        check_url(params["url"], f"{where}.url", problems, checks)
    if has_connector and params["connector"] not in checks.connectors:
        known = ", ".join(sorted(checks.connectors)) or "none"
        problems.add(f"{where}.connector", f"no HTTP connector named "
                                           f"{params['connector']!r} (configured: {known})",
                     f"没有名为 {params['connector']!r} 的 HTTP 连接器（已配置："
                     f"{'、'.join(sorted(checks.connectors)) or '无'}）")
    path = params.get("path", "")
    if has_connector and path and not path.startswith("/"):
        problems.add(f"{where}.path", "a path starts with /", "路径应以 / 开头")


def call(outside: Outside, step: StepCall, hub_output: Output,
         hmac_secret: str | None) -> Answer:
    p = step.params
    return outside.http_call(p.get("method", "POST"), p.get("url"),
                             connector=p.get("connector"), path=p.get("path", ""),
                             headers=p.get("headers"), json_body=p.get("body"),
                             timeout_s=p.get("timeout_s"),
                             hmac_secret=hmac_secret if p.get("sign") else None,
                             idempotency_key=step.key)


ACTION = RuleAction(
    TYPE, call=call, check=check,
    unchecked_resend="the Idempotency-Key header is the only protection: a receiver that "
                     "ignores it may act twice after a crash during the call")
