"""Maps domain errors and request validation errors to JSON:
{"error": {code, message, field, message_zh}} (message in English, message_zh in Chinese, both
always: see domain/errors.py), with ``details`` [{field, code, message, message_zh}] naming
every field at fault where the error can name several (an order, a rule, a request that does
not fit the schema); ``field`` and the messages are then the first detail's."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderpilot.domain import errors as e
from orderpilot.domain.messages import bilingual_note

STATUS = {e.InvalidInput: 422, e.NotFound: 404, e.Conflict: 409, e.Forbidden: 403,
          e.ConnectorError: 502}
QUARANTINED_ENDPOINTS = {("POST", "/api/v1/orders")}
RETRY_AFTER_SECONDS = 5  # a PostgreSQL restart or a failover takes a few seconds
UNAVAILABLE_MESSAGE = (f"the database is unavailable for a moment; try again in "
                       f"{RETRY_AFTER_SECONDS} s (an order sent again with the same "
                       "Idempotency-Key is placed once)")
UNAVAILABLE_MESSAGE_ZH = (f"数据库暂时不可用，请在 {RETRY_AFTER_SECONDS} 秒后重试"
                          "（使用相同 Idempotency-Key 重新提交的订单只会下单一次）")
HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
HTTP_MESSAGES_ZH = {401: "需要登录或有效的 API 密钥", 403: "无权执行此操作",
                    404: "请求的资源不存在", 405: "不支持该请求方法"}


def error_body(code: str, message: str, field: str | None = None,
               details: list[dict[str, Any]] | None = None, *,
               message_zh: str | None = None) -> dict[str, Any]:
    """The error envelope; ``message_zh`` defaults to the Chinese title of the code's class."""
    body: dict[str, Any] = {"code": code, "message": message, "field": field,
                            "message_zh": message_zh or _zh_fallback(message)}
    if details:
        body["details"] = details
    return {"error": body}


# Pydantic's English messages, by error type, in Chinese ({name}: the error's ctx values).
VALIDATION_ZH = {
    "missing": "必填", "extra_forbidden": "不允许的字段",
    "string_type": "应为文本", "int_type": "应为整数", "int_parsing": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "decimal_type": "应为数字",
    "decimal_parsing": "应为数字", "bool_type": "应为布尔值", "bool_parsing": "应为布尔值",
    "list_type": "应为列表", "dict_type": "应为对象", "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "string_too_short": "至少 {min_length} 个字符", "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项", "too_long": "最多 {max_length} 项",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应小于或等于 {le}",
    "string_pattern_mismatch": "格式不符合要求", "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}", "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_type": "应为日期时间（ISO 8601）", "datetime_from_date_parsing": "应为日期时间",
    "date_parsing": "应为日期（YYYY-MM-DD）", "date_type": "应为日期（YYYY-MM-DD）",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_max_places": "小数最多 {decimal_places} 位", "finite_number": "应为有限数字",
    "uuid_parsing": "应为 UUID", "json_invalid": "不是有效的 JSON",
}


def validation_zh(err: Any) -> str:
    template = VALIDATION_ZH.get(str(err.get("type", "")))
    if template is None:
        return "取值无效"
    try:
        return template.format(**{k: v for k, v in (err.get("ctx") or {}).items()})
    except (KeyError, IndexError, ValueError):
        return "取值无效"


def _zh_fallback(message: str) -> str:
    return f"{e.InvalidInput.title_zh}：{message}"


def field_path(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "")


def install(app: FastAPI, quarantine: Any) -> None:
    async def keep(request: Request, reason: str, field: str | None) -> None:
        if (request.method, request.url.path) not in QUARANTINED_ENDPOINTS:
            return
        raw = (await request.body()).decode("utf-8", errors="replace")
        source = "api"
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, dict) and isinstance(parsed.get("channel"), str):
                source = parsed["channel"][:64]
        except ValueError:
            pass
        # A database write: off the event loop, like every other one.
        await anyio.to_thread.run_sync(quarantine, source, request.url.path, reason, field, raw)

    @app.exception_handler(e.OrderpilotError)
    async def domain_error(request: Request, exc: e.OrderpilotError) -> JSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        if status == 422:
            await keep(request, bilingual_note(exc.message, exc.message_zh), exc.field)
        problems = getattr(exc, "problems", None)  # an order or a rule: every field at fault
        details = [{"field": p.field, "code": getattr(p, "code", None) or exc.code,
                    "message": p.message, "message_zh": p.message_zh}
                   for p in problems or ()]
        return JSONResponse(error_body(exc.code, exc.message, exc.field, details or None,
                                       message_zh=exc.message_zh),
                            status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details: list[dict[str, str]] = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                position = err.get("loc", ("body", "?"))[-1]
                reason = err.get("ctx", {}).get("error", "")
                details.append({"field": "body", "code": "malformed_json",
                                "message": "the body is not valid JSON "
                                f"(error near character {position}): {reason}",
                                "message_zh": f"请求体不是有效的 JSON（第 {position} 个字符附近）"})
                continue
            where = field_path(tuple(err.get("loc", ())))
            details.append({"field": where, "code": str(err.get("type", "invalid")),
                            "message": err.get("msg", "invalid"),
                            "message_zh": validation_zh(err)})
        first = details[0] if details else {"field": "body", "message": "invalid request",
                                            "message_zh": "请求无效"}
        code = "malformed_json" if any(d.get("type") == "json_invalid"
                                       for d in exc.errors()) else "invalid_input"
        message = f"{first['field']}: {first['message']}"
        await keep(request, bilingual_note(message, f"{first['field']}：{first['message_zh']}"),
                   first["field"])
        return JSONResponse(error_body(code, message, first["field"], details,
                                       message_zh=f"{first['field']}：{first['message_zh']}"),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = HTTP_MESSAGES_ZH.get(exc.status_code, f"请求失败（HTTP {exc.status_code}）")
        return JSONResponse(error_body(HTTP_CODES.get(exc.status_code, "http_error"),
                                       str(exc.detail), message_zh=zh),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
