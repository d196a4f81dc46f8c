"""The SF Express route query client (EXP_RECE_SEARCH_ROUTES) over an injected httpx.Client.

The request is a form POST to ``<base>/std/service`` with ``partnerID``, ``requestID`` (a UUID),
``serviceCode``, ``timestamp`` (milliseconds), ``msgDigest`` and ``msgData`` (the JSON text);
the answer is ``{"apiResultCode", "apiErrorMsg", "apiResponseID", "apiResultData"}`` where
apiResultData is a JSON *string* ``{"success", "errorCode", "errorMsg", "msgData"}``. A1000
means only that the platform took the call: the business result is ``success`` /
``errorCode`` "S0000". Platform codes (SF-Express API overview, find_string id 204237361):
A1001 missing parameters, A1002 expired token, A1003 bad IP, A1004 no permission, A1005 rate
limited (30 calls/s per interface), A1006 bad signature, A1009 target service down, A1099
system error. Sources of each fact: see mapping.py and signing.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from orderpilot.domain.channel_orders import MappingError
from orderpilot.domain.shipments import CarrierEvent
from orderpilot.integrations.sf_express import returns
from orderpilot.integrations.sf_express.mapping import MAX_WAYBILLS_PER_QUERY, routes_from_query
from orderpilot.integrations.sf_express.settings import SfSettings
from orderpilot.integrations.sf_express.signing import msg_digest

SEARCH_ROUTES = "EXP_RECE_SEARCH_ROUTES"
RETRYABLE = frozenset({"A1005", "A1009", "A1099"})


class SfError(Exception):
    """SF refused or failed a call: CODE is its apiResultCode or errorCode."""

    def __init__(self, code: str, message: str, *, retryable: bool,
                 business: bool = False) -> None:
        super().__init__(f"SF {code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.business = business  # SF took the call and answered success=false


class SfExpress:
    def __init__(self, settings: SfSettings, http: httpx.Client,
                 millis: Callable[[], int] | None = None) -> None:
        self.settings = settings
        self.http = http
        self._millis = millis or _now_millis

    def call(self, service_code: str, msg_data: dict[str, Any]) -> Any:
        """One signed call; the parsed business msgData when SF says success."""
        text = json.dumps(msg_data, ensure_ascii=False, separators=(",", ":"))
        timestamp = str(self._millis())
        form = {"partnerID": self.settings.partner_id, "requestID": str(uuid.uuid4()),
                "serviceCode": service_code, "timestamp": timestamp,
                "msgDigest": msg_digest(text, timestamp,
                                        self.settings.checkword.get_secret_value()),
                "msgData": text}
        try:
            response = self.http.post(self.settings.base_url, data=form)
        except httpx.HTTPError as error:
            raise SfError("network", str(error), retryable=True) from error
        if response.status_code == 429 or response.status_code >= 500:
            raise SfError(f"http_{response.status_code}", response.text[:200], retryable=True)
        envelope = _json(response.text, "the answer")
        code = str(envelope.get("apiResultCode") or "")
        if code != "A1000":
            raise SfError(code or "no_code", str(envelope.get("apiErrorMsg") or ""),
                          retryable=code in RETRYABLE)
        data = envelope.get("apiResultData")
        result = _json(data, "apiResultData") if isinstance(data, str) else data
        if not isinstance(result, dict):
            raise SfError("no_result", "apiResultData is not an object", retryable=False)
        if result.get("success") not in (True, "true"):
            raise SfError(str(result.get("errorCode") or "failed"),
                          str(result.get("errorMsg") or ""), retryable=False, business=True)
        return result

    def search_routes(self, waybills: Sequence[str]) -> list[CarrierEvent]:
        """Every route node of up to 10 SF waybills (SF's limit, error 8003)."""
        if not 0 < len(waybills) <= MAX_WAYBILLS_PER_QUERY:
            raise ValueError(f"ask for 1 to {MAX_WAYBILLS_PER_QUERY} waybills at a time")
        result = self.call(SEARCH_ROUTES, {"language": "zh-CN", "trackingType": "1",
                                           "trackingNumber": list(waybills),
                                           "methodType": "1"})
        try:
            return routes_from_query(result)
        except MappingError as error:
            raise SfError("unmappable", str(error), retryable=False) from error

    def outlet_of(self, waybill: str) -> str | None:
        """The outlet (网点) code SF gives on the waybill's latest route node carrying one."""
        return returns.outlet_from_routes(self.call(SEARCH_ROUTES, {
            "language": "zh-CN", "trackingType": "1", "trackingNumber": [waybill],
            "methodType": "1"}))

    def book_return_pickup(self, pickup: returns.ReturnPickup) -> returns.BookedPickup:
        """EXP_RECE_CREATE_REVERSE_ORDER for PICKUP (its orderId is the hub's key: SF refuses
        a second order with one orderId, the simulator answers the first again)."""
        return self._booked(self.call(returns.CREATE_REVERSE_ORDER, pickup.msg_data()),
                            pickup.start, pickup.order_id)

    def find_return_pickup(self, order_id: str) -> returns.BookedPickup | None:
        """EXP_RECE_SEARCH_ORDER_RESP by the pickup's orderId; None when SF has no such
        order (a business refusal); platform failures raise."""
        try:
            result = self.call(returns.SEARCH_ORDER, {"searchType": "1",
                                                      "orderId": order_id,
                                                      "language": "zh-CN"})
        except SfError as error:
            if error.business:
                return None
            raise
        return self._booked(result, None, order_id)

    @staticmethod
    def _booked(result: Any, start: Any, order_id: str) -> returns.BookedPickup:
        try:
            return returns.booked(result, start, order_id)
        except ValueError as error:
            raise SfError("unmappable", str(error), retryable=False) from error


def _json(text: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise SfError("bad_json", f"{what} is not JSON: {str(text)[:80]!r}",
                      retryable=True) from None
    if not isinstance(value, dict):
        raise SfError("bad_json", f"{what} is not a JSON object", retryable=True)
    return value


def _now_millis() -> int:
    import time
    return int(time.time() * 1000)
