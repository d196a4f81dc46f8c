"""The request body limit, enforced while the body streams in (pure ASGI).

A declared ``Content-Length`` over the limit is refused before a byte of the body is read. A
body without one (``Transfer-Encoding: chunked``) is read chunk by chunk, counted, and refused
the moment it passes the limit, so memory never holds more than the limit. Multipart uploads
(spreadsheets) get their own, larger limit; the upload routes check the file size themselves.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderpilot.entrypoints.api.errors import error_body

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _size_text(limit: int) -> str:
    return f"{limit // 1024 // 1024} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes, self.max_upload_bytes = max_body_bytes, max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _refuse(send, 400, "invalid_content_length",
                              "Content-Length is not a number of bytes",
                              "Content-Length 不是字节数")
                return
            if int(declared) > limit:
                await _too_large(send, limit, upload)
                return
            # The server holds a declared body to its length: nothing more can arrive.
            await self.app(scope, receive, send)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, limit, upload)
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int, upload: bool) -> None:
    what = "an upload (multipart/form-data)" if upload else "a request body"
    setting = "ORDERPILOT_MAX_UPLOAD_BYTES" if upload else "ORDERPILOT_MAX_BODY_BYTES"
    what_zh = "上传文件（multipart/form-data）" if upload else "请求体"
    await _refuse(send, 413, "body_too_large",
                  f"{what} may be at most {_size_text(limit)} ({limit} bytes; {setting})",
                  f"{what_zh}最大为 {_size_text(limit)}（{limit} 字节；{setting}）")


async def _refuse(send: Send, status: int, code: str, message: str, message_zh: str) -> None:
    body = json.dumps(error_body(code, message, "body", message_zh=message_zh)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
