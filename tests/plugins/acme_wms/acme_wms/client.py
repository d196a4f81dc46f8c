"""Reservations at ACME's WMS, through the hub's named HTTP connector (and so its guard)."""

from __future__ import annotations

from orderpilot.adapters.connectors import CallResult, HttpConnector, PermanentError


class AcmeWms:
    def __init__(self, http: HttpConnector) -> None:
        self.http = http

    def reserve(self, sku: str, quantity: int, idempotency_key: str) -> CallResult:
        result = self.http.call("POST", connector="acme_wms", path="/api/reservations",
                                json_body={"sku": sku, "quantity": quantity},
                                idempotency_key=idempotency_key)
        reservation = result.output.get("reservation_id")
        if not reservation:
            raise PermanentError("acme_wms: the answer has no reservation_id",
                                 request=result.request, response=result.response,
                                 status_code=result.status_code)
        result.output = {"reservation_id": reservation}
        return result
