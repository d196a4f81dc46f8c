"""The rule action acme_wms.reserve: one module, declared with the hub's RuleAction."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters.connectors import CallResult
from orderpilot.domain.rules.actions import ActionType, Param
from orderpilot.services.rules.actions import RuleAction


def reserve(outside: Any, call: Any, internal_output: dict[str, Any],
            hmac_secret: str | None) -> CallResult:
    """Reserve the step's SKU and quantity; the step's key makes a resend harmless."""
    acme = outside.client("acme_wms")
    return acme.reserve(str(call.params["sku"]), int(call.params["quantity"]), call.key)


RESERVE = RuleAction(
    type=ActionType("acme_wms.reserve", "ACME 仓预留库存", "Reserve stock at ACME", (
        Param("sku", "text", "SKU", "SKU", required=True),
        Param("quantity", "int", "数量", "Quantity", required=True)),
        external=True, internal=False, outputs={"reservation_id": "text"}),
    call=reserve)
