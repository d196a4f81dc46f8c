"""Carrier pushes: SF Express route pushes and a generic carrier-tracking webhook.

``POST /hooks/carriers/sf`` takes SF's route push. SF's RoutePushService page
(https://www.showdoc.com.cn/hnqiao/9157102515696868) documents the body
(``{"Body": {"WaybillRoute": [...]}}``, as JSON, or URL-encoded XML in a ``content`` form field)
and the answer (``{"return_code": "0000", "return_msg": "成功"}``, 1000 = failed), but **no
signature on the push**. The hub therefore takes a push in one of two ways, anything else is
401 and changes nothing:

* SF's unified-platform envelope (form fields ``partnerID``, ``requestID``, ``serviceCode``,
  ``timestamp``, ``msgDigest``, ``msgData`` = the JSON body), its ``msgDigest`` checked with
  the same recipe and checkword as SF's calls (integrations/sf_express/signing.py) and the
  partner code. That SF can push in this envelope is *not verified*; the simulator does.
* The documented JSON push, when the push URL carries the hub's secret token
  (``/hooks/carriers/sf?token=<ORDERPILOT_SF_PUSH_TOKEN>``), the usual guard for a push the
  sender does not sign. Without a token configured, unsigned pushes are refused.

``POST /hooks/carriers/{carrier}`` is our own contract for every other carrier (documented in
docs/back_office/carriers.md): JSON ``{"tracking_number", "carrier"?, "events": [{"code",
"occurred_at", "location"?, "outlet"?}]}`` signed ``X-Orderpilot-Signature: sha256=<hex HMAC-SHA256
of the raw body>`` with the carrier's secret from ORDERPILOT_CARRIER_WEBHOOK_SECRETS.

Both record each node on the order the waybill carries (the shipments table), idempotent by
``source_event_id``; a waybill no order follows, a body that cannot be read or a node the order
refuses is kept in quarantine with the reason. No bearer token: the signature is the proof.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import anyio
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub
from orderpilot.domain.channel_orders import MappingError, iso, unmappable
from orderpilot.domain.shipments import GENERIC_CODES, CarrierEvent, carrier_code, event_data
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.integrations.sf_express.mapping import routes_from_push
from orderpilot.integrations.sf_express.settings import configure as sf_settings
from orderpilot.integrations.sf_express.signing import digest_matches
from orderpilot.services.carriers.tracking import Recorded, record_routes

log = structlog.get_logger("orderpilot.carriers")
router = APIRouter(prefix="/hooks/carriers", tags=["carriers"])
SIGNATURE_HEADER = "X-Orderpilot-Signature"
SF_OK = {"return_code": "0000", "return_msg": "成功"}


def _sf_refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"return_code": "1000", "return_msg": message}, status)


def _keep(hub: Hub, source: str, endpoint: str, done: Recorded, raw: str) -> int:
    """Quarantine what no order took; returns how many events were kept."""
    by_waybill: dict[str, list[CarrierEvent]] = {}
    for event in done.unknown:
        by_waybill.setdefault(event.tracking_number, []).append(event)
    for number, events in by_waybill.items():
        keep_in_quarantine(hub, source, endpoint,
                           f"no order follows waybill {number} ({len(events)} route events); "
                           f"没有订单关联运单 {number}", "tracking_number", raw)
    for event, error in done.refused:
        keep_in_quarantine(hub, source, endpoint,
                           f"{event.tracking_number} {event.type}: {error.message}",
                           error.field, raw)
    return len(done.unknown) + len(done.refused)


def _record(hub: Hub, source: str, endpoint: str, events: Sequence[CarrierEvent],
            raw: str) -> tuple[Recorded, int]:
    done = record_routes(events, hub.uow, hub.clock)
    return done, _keep(hub, source, endpoint, done, raw)


@router.post("/sf", summary="SF Express route push (路由推送)")
async def sf_route_push(request: Request, hub: HubDep) -> JSONResponse:
    raw = (await request.body()).decode("utf-8", errors="replace")
    settings = sf_settings(hub.settings)
    if settings is None:
        return _sf_refusal(404, "SF Express is not configured (ORDERPILOT_SF_PARTNER_ID, "
                                "ORDERPILOT_SF_CHECKWORD)")
    if "json" in request.headers.get("content-type", ""):
        token = settings.push_token.get_secret_value() if settings.push_token else ""
        if not token or not hmac.compare_digest(request.query_params.get("token", ""), token):
            log.warning("sf_push_refused", reason="unsigned push without the URL token")
            return _sf_refusal(401, "推送地址令牌无效 (bad or missing ?token=)")
        msg_data = raw
    else:
        form = dict(parse_qsl(raw, keep_blank_values=True))
        msg_data, stamp, digest = (form.get(k, "")
                                   for k in ("msgData", "timestamp", "msgDigest"))
        if not (msg_data and stamp and digest) \
                or not hmac.compare_digest(form.get("partnerID", ""), settings.partner_id) \
                or not digest_matches(msg_data, stamp, settings.checkword.get_secret_value(),
                                      digest):
            log.warning("sf_push_refused", reason="bad or missing msgDigest",
                        partner=form.get("partnerID", "")[:64])
            return _sf_refusal(401, "数字签名无效 (bad msgDigest)")
    try:
        events = routes_from_push(json.loads(msg_data))
    except (ValueError, MappingError) as error:
        field = error.field if isinstance(error, MappingError) else "msgData"
        await anyio.to_thread.run_sync(keep_in_quarantine, hub, "sf", request.url.path,
                                       f"unreadable route push: {error}", field, msg_data)
        return JSONResponse(SF_OK)  # kept: SF need not push it again
    await anyio.to_thread.run_sync(_record, hub, "sf", request.url.path, events, msg_data)
    return JSONResponse(SF_OK)


def _generic_events(carrier: str, body: Any) -> list[CarrierEvent]:
    if not isinstance(body, dict):
        raise unmappable("body", "the body is not a JSON object", "请求体不是 JSON 对象")
    number = str(body.get("tracking_number") or "").strip()
    if not number or len(number) > 64:
        raise unmappable("tracking_number", "tracking_number is missing or longer than 64",
                         "tracking_number 缺失或超过 64 个字符")
    named = body.get("carrier")
    if named is not None and carrier_code(str(named)) != carrier:
        raise unmappable("carrier", f"carrier {named!r} does not match the URL's {carrier!r}",
                         f"carrier {named!r} 与地址中的 {carrier!r} 不一致")
    items = body.get("events")
    if not isinstance(items, list) or not items:
        raise unmappable("events", "events must be a non-empty list", "events 应为非空列表")
    events = []
    for i, item in enumerate(items):
        where = f"events[{i}]"
        code = item.get("code") if isinstance(item, dict) else None
        if code not in GENERIC_CODES:
            raise unmappable(f"{where}.code", f"{where}.code must be one of "
                             f"{', '.join(GENERIC_CODES)}; got {code!r}",
                             f"{where}.code 应为 {'、'.join(GENERIC_CODES)} 之一；收到 {code!r}")
        assert isinstance(item, dict)
        at = iso(item.get("occurred_at"), f"{where}.occurred_at")
        event_type, status = GENERIC_CODES[str(code)]
        data = event_data(number, carrier, status, code=code,
                          location=str(item.get("location") or "")[:200],
                          outlet=str(item.get("outlet") or "")[:100])
        events.append(CarrierEvent(number, carrier, event_type, at,
                                   f"{number}:{code}:{at.isoformat()}", data))
    return events


@router.post("/{carrier}", summary="Generic carrier tracking webhook (our contract)")
async def carrier_webhook(carrier: str, request: Request, hub: HubDep) -> JSONResponse:
    raw_bytes = await request.body()
    code = carrier_code(carrier)
    secret = hub.settings.carrier_webhook_secrets.get(code) \
        or hub.settings.carrier_webhook_secrets.get(carrier)
    given = request.headers.get(SIGNATURE_HEADER, "")
    expected = "sha256=" + hmac.new(secret.get_secret_value().encode(), raw_bytes,
                                    hashlib.sha256).hexdigest() if secret else ""
    if not secret or not hmac.compare_digest(given.strip().lower(), expected):
        log.warning("carrier_push_refused", carrier=code[:32], configured=bool(secret))
        return JSONResponse({"error": {
            "code": "bad_signature", "field": SIGNATURE_HEADER,
            "message": f"{SIGNATURE_HEADER} is missing or wrong for carrier {code!r} "
                       "(sha256=<hex HMAC-SHA256 of the raw body>)",
            "message_zh": f"承运商 {code!r} 的 {SIGNATURE_HEADER} 签名缺失或错误"}}, 401)
    raw = raw_bytes.decode("utf-8", errors="replace")
    try:
        events = _generic_events(code, json.loads(raw))
    except (ValueError, MappingError) as error:
        field = error.field if isinstance(error, MappingError) else "body"
        message = str(error)
        zh = error.zh if isinstance(error, MappingError) and error.zh else f"无法读取：{message}"
        await anyio.to_thread.run_sync(keep_in_quarantine, hub, code, request.url.path,
                                       message, field, raw)
        return JSONResponse({"error": {"code": "unmappable", "field": field,
                                       "message": message, "message_zh": zh}}, 422)
    done, kept = await anyio.to_thread.run_sync(_record, hub, code, request.url.path, events,
                                                raw)
    return JSONResponse({"recorded": done.recorded, "duplicates": done.duplicates,
                         "quarantined": kept})
