"""Every answer of the API and the console masked for a reader without ``pii.read``, in one
place, with the policy of domain/masking.py.

A route returns what it reads; this pure-ASGI layer masks the body on its way out, so a route
or a page added later is masked without remembering to:

* API JSON: fields found by place (``customer.phone``, ``line1``, a trace leaf on
  ``order.customer.name``...), phones and e-mails anywhere by shape, and the buyers of the
  orders the answer or its path names (``order_id``) wherever text repeats them (a ticket
  body, an SMS parameter string);
* console HTML (the templates mask what they show; this is the net under them): phones and
  e-mails by shape, and the names, phones and street lines of every order the page links to.

A caller we could not identify (401, a request refused before its route) is masked as well.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderpilot.adapters.views.orders import personal_data_of_orders
from orderpilot.bootstrap import Hub
from orderpilot.domain.access import allowed
from orderpilot.domain.masking import mask_document, mask_text

MAX_LOOKUPS = 500  # order ids looked up per answer (a page holds at most 500 rows)
_ORDER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _order_ids(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "order_id" and isinstance(item, str) and len(found) < MAX_LOOKUPS:
                found.add(item)
            else:
                _order_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _order_ids(item, found)


class MaskPersonalData:
    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app, self.hub = app, hub

    def _buyers(self, order_ids: set[str]) -> dict[str, str]:
        if not order_ids:
            return {}
        with self.hub.db.read() as conn:
            return personal_data_of_orders(conn, sorted(order_ids)[:MAX_LOOKUPS])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        kind = "json" if path.startswith("/api/") else "html" if path.startswith(
            "/console") else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def mask_on_the_way_out(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                reader = state.get("principal") or state.get("console_principal")
                media = dict(message.get("headers", [])).get(b"content-type", b"")
                wanted = b"application/json" if kind == "json" else b"text/html"
                if media.startswith(wanted) and (reader is None
                                                 or not allowed(reader.role, "pii.read")):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                raw = b"".join(chunks)
                body = await (self._masked_json(raw, path) if kind == "json"
                              else self._masked_html(raw))
                headers = [(k, v) for k, v in held.get("headers", [])
                           if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**held, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, mask_on_the_way_out)

    async def _masked_json(self, body: bytes, path: str) -> bytes:
        try:
            document = json.loads(body)
        except ValueError:  # labelled JSON but is not: masked as plain text
            return mask_text(body.decode("utf-8", errors="replace")).encode()
        ids = set(_ORDER_ID.findall(path))  # /orders/{id}/events: the timeline names no order
        _order_ids(document, ids)
        known = await anyio.to_thread.run_sync(self._buyers, ids)
        return json.dumps(mask_document(document, known), ensure_ascii=False,
                          separators=(",", ":")).encode()

    async def _masked_html(self, body: bytes) -> bytes:
        page = body.decode("utf-8", errors="replace")
        known = await anyio.to_thread.run_sync(self._buyers, set(_ORDER_ID.findall(page)))
        escaped = {html.escape(v, quote=q): role for v, role in known.items()
                   for q in (True, False)}
        return mask_text(page, known | escaped).encode()
