"""Youzan message pushes (消息推送): verify the signature, read what changed.

A push is a JSON POST ``{client_id, id, kdt_id, kdt_name, mode, msg, msg_id, root_kdt_id,
sendCount, sign, status, test, type, version}`` with headers ``Client-Id``, ``Event-Type``
and ``Event-Sign`` (signing.py). ``msg`` is URL-encoded (UTF-8) JSON; ``id`` is the order
number (tid) for trade messages; ``type`` is e.g. trade_TradeCreate, trade_TradeBuyerPay,
trade_TradeSuccess, trade_TradeClose, trade_TradePartlySellerShip, trade_refund_*; ``version``
orders messages of one type ("高版本覆盖低版本"); ``msg_id`` is the message's unique id; a
failed push is retried up to 4 times (5s, 5m20s, 21m20s, 2h) with ``sendCount`` counting.
The shop must answer ``{"code":0,"msg":"success"}`` with HTTP 200, or Youzan pushes again.

Sources: github.com/TsangJx/YouZanYunSDK Msg/TradeTradecreateData.cs,
TradeTradebuyerpayData.cs, TradeTradesuccessData.cs, TradeTradecloseData.cs,
TradeRefundMsg.cs (field descriptions taken from https://doc.youzanyun.com/detail/MSG/300,
/302, /199, /200, /201); the answer ``{"code":0,"msg":"success"}`` as in Youzan's PHP push
demo (``$result = array("code"=>0,"msg"=>"success")``) quoted in public push receivers.

Every trade message makes the hub fetch the order with youzan.trade.get: the msg of a
close or success message is not the whole order, so pushes never carry the order here. A
trade_refund_* message (维权, refunds.py) also gives a notice of kind ``return`` naming the
refund (``msg.refund_id``): the hub reads that refund with youzan.trade.refund.get.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from orderpilot.adapters.channels.base import read_json
from orderpilot.domain.channel_orders import (
    Account,
    Hook,
    HookAnswer,
    MappingError,
    PushNotice,
    local,
    text,
    unmappable,
)
from orderpilot.integrations.youzan import signing
from orderpilot.integrations.youzan.refunds import read_refund_msg

ACK = HookAnswer(200, b'{"code":0,"msg":"success"}', "application/json")
REFUND_PREFIX = "trade_refund_"


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    """True when the push is signed with this account's client_id and client_secret: the
    Event-Sign header over the raw BODY when present, else the body's legacy ``sign``."""
    client_id, secret = account.secret("client_id"), account.secret("client_secret")
    if not client_id or not secret:
        return False
    header_client = hook.headers.get("client-id", "")
    if header_client and header_client != client_id:
        return False
    given = hook.headers.get("event-sign", "")
    if given:
        return signing.event_sign_ok(client_id, body, secret, given)
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(parsed, dict) or not isinstance(parsed.get("msg"), str):
        return False
    if str(parsed.get("client_id") or client_id) != client_id:
        return False
    return signing.legacy_sign_ok(client_id, parsed["msg"], secret, str(parsed.get("sign") or ""))


def decode_msg(msg: object) -> dict[str, Any]:
    """The push's ``msg``: URL-encoded JSON (a dict already, in some SDK examples)."""
    if isinstance(msg, Mapping):
        return dict(msg)
    if not isinstance(msg, str) or not msg:
        return {}
    try:
        value = json.loads(unquote_plus(msg))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def read_push(body: bytes) -> list[PushNotice]:
    push = read_json(body, "push")
    if not isinstance(push, dict):
        raise unmappable("push", "the push is not a JSON object", "推送内容不是 JSON 对象")
    kind = str(push.get("type") or "")
    msg = decode_msg(push.get("msg"))
    dedup = _dedup_key(push, kind)
    if not kind.startswith("trade"):
        return [PushNotice(external_id=text(push.get("id")), dedup_key=dedup, kind="other",
                           status=text(push.get("status")))]
    full: dict[str, Any] = msg.get("full_order_info") or {}
    info: dict[str, Any] = full.get("order_info") or {} if isinstance(full, dict) else {}
    if not isinstance(info, dict):
        info = {}
    tid = text(info.get("tid") or msg.get("tid") or push.get("id"))
    if not tid:
        raise unmappable("id", "the push names no order (id, msg.tid)", "推送中没有订单号")
    status = text(push.get("status") or info.get("status"))
    changed = _update_time(info.get("update_time") or msg.get("update_time"))
    notices = [PushNotice(external_id=tid, dedup_key=f"{dedup}:{tid}", status=status,
                          update_time=changed)]
    if kind.startswith(REFUND_PREFIX):  # 维权: the order's refund_state moved, and the refund
        refund = read_refund_msg(kind, msg, push.get("id"))
        notices.append(PushNotice(
            external_id=refund.refund_id, dedup_key=f"{dedup}:refund:{refund.refund_id}",
            status=kind, update_time=changed, kind="return"))
    return notices


def _dedup_key(push: Mapping[str, Any], kind: str) -> str:
    msg_id = text(push.get("msg_id"))
    if msg_id:
        return f"youzan:{msg_id}"
    # No message id (older pushes): type + id + version is the message, whatever sendCount.
    key = f"{kind}|{push.get('id')}|{push.get('version')}|{push.get('status')}"
    return "youzan:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _update_time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return local(value, "Asia/Shanghai", "msg.update_time")
    except MappingError:
        return None  # the hub fetches the order and takes its update time from there
