"""Maps domain errors and request validation errors to JSON: {"error": {code, message, field}}."""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orderpilot.domain import errors as e

STATUS = {e.InvalidInput: 422, e.NotFound: 404, e.Conflict: 409, e.Forbidden: 403}
QUARANTINED_ENDPOINTS = {("POST", "/api/v1/orders")}
RETRY_AFTER_SECONDS = 5  # a PostgreSQL restart or a failover takes a few seconds
UNAVAILABLE_MESSAGE = (f"the database is unavailable for a moment; try again in "
                       f"{RETRY_AFTER_SECONDS} s (an order sent again with the same "
                       "Idempotency-Key is placed once)")


def error_body(code: str, message: str, field: str | None = None,
               details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details:
        body["details"] = details
    return {"error": body}


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
            await keep(request, exc.message, exc.field)
        problems = getattr(exc, "problems", None)  # a rule: every field at fault
        details = [{"field": p.field, "message": p.message} for p in problems or ()]
        return JSONResponse(error_body(exc.code, exc.message, exc.field, details or None),
                            status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details: list[dict[str, str]] = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                position = err.get("loc", ("body", "?"))[-1]
                reason = err.get("ctx", {}).get("error", "")
                details.append({"field": "body", "message": "the body is not valid JSON "
                                f"(error near character {position}): {reason}"})
                continue
            where = field_path(tuple(err.get("loc", ())))
            details.append({"field": where, "message": err.get("msg", "invalid")})
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        code = "malformed_json" if any(d.get("type") == "json_invalid"
                                       for d in exc.errors()) else "invalid_input"
        message = f"{first['field']}: {first['message']}"
        await keep(request, message, first["field"])
        return JSONResponse(error_body(code, message, first["field"], details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed"}
        return JSONResponse(error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
