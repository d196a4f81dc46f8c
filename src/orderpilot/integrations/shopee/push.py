"""Shopee pushes: checking their signature and reading what they say.

The push body (https://open.shopee.com/developer-guide/18 and the order push pages it links,
https://open.shopee.com/push-mechanism/1 and /2; the documented lost-push sample of
v2.push.get_lost_push_message carries the same body) is
``{"data": {"ordersn", "status", "update_time", ...}, "shop_id", "code", "timestamp"}``:
code 3 is the order status push, code 4 the tracking number push (``data.ordersn`` with
``package_number`` and ``tracking_no``); other codes (shop authorisation, promotions, chat)
are not about an order. A push only says that an order changed: the hub fetches the order.
Shopee wants a 2xx answer with an EMPTY body, or it counts the push as failed and, below a
30% success rate, disables the subscription.

The dedup key is built from what the push says (shop, code, order, status, update time,
package, tracking number), not from its bytes, so a replay and the same message drained later
through the lost-push API are one notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import Account, Hook, read_json
from orderpilot.domain.channel_orders import PushNotice, from_unix, unmappable
from orderpilot.integrations.shopee.signing import push_is_authentic

ORDER_STATUS_PUSH = 3
TRACKING_NO_PUSH = 4
ORDER_CODES = (ORDER_STATUS_PUSH, TRACKING_NO_PUSH)


def verify_push(account: Account, hook: Hook, body: bytes) -> bool:
    """Whether the ``Authorization`` header signs BODY for the account's callback URL (or the
    URL the request reached) with the account's partner key."""
    return push_is_authentic(hook.headers.get("authorization", ""),
                             account.secret("partner_key"),
                             (account.callback_url, hook.url), body)


def read_push(body: bytes) -> list[PushNotice]:
    """What one push says. An empty body (Shopee's check of a new callback URL) says nothing;
    a body that is not a JSON object is a MappingError."""
    if not body.strip():
        return []
    message = read_json(body, "push")
    if not isinstance(message, Mapping):
        raise unmappable("push", "the push is not a JSON object", "推送内容不是 JSON 对象")
    notice = notice_of(message, hashlib.sha256(body).hexdigest())
    return [notice, *return_scan(notice)]


def return_scan(notice: PushNotice) -> list[PushNotice]:
    """Shopee documents no push for returns (the push list of developer guide "Push Mechanism
    Notifications", https://open.shopee.com/developer-guide/18 mirrored in
    github.com/lazykern/ecommerce-api-docs, names codes 1-13 and 15, none about returns); the
    order status push says TO_RETURN when a buyer asks for one. That push also asks the hub to
    look for the order's return at once (kind "return_scan": the account's returns are listed
    by update time) rather than wait for the scheduled pull."""
    if notice.kind != "order" or notice.status != "TO_RETURN":
        return []
    return [PushNotice(external_id=notice.external_id, dedup_key=f"{notice.dedup_key}:scan",
                       status=notice.status, update_time=notice.update_time,
                       kind="return_scan")]


def notice_of(message: Mapping[str, Any], body_digest: str) -> PushNotice:
    """One push message (a live push, or one drained from the lost-push API) as a notice."""
    code = message.get("code")
    data = message.get("data")
    if not isinstance(data, Mapping):
        data = {}
    if code not in ORDER_CODES:
        return PushNotice(external_id=str(data.get("ordersn") or ""),
                          dedup_key=f"shopee:other:{body_digest}", kind="other")
    if not data.get("ordersn"):
        raise unmappable("data.ordersn", f"an order push (code {code}) without data.ordersn",
                         f"订单推送（code {code}）缺少 data.ordersn")
    order_sn = str(data["ordersn"])
    update_time = data.get("update_time")
    parts = (message.get("shop_id"), code, order_sn, data.get("status"), update_time,
             data.get("package_number"), data.get("tracking_no"))
    key = hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode())
    return PushNotice(
        external_id=order_sn, dedup_key=f"shopee:{key.hexdigest()}",
        status=str(data.get("status") or ""),
        update_time=from_unix(update_time, "data.update_time") if update_time else None)


def shop_of(message: Mapping[str, Any]) -> str:
    shop = message.get("shop_id")
    return "" if shop is None else str(shop)
