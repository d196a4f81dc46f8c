"""Outbound connectors: how rule actions call the outside world (see registry.Connectors)."""

from orderpilot.adapters.connectors.base import (
    AddressNotAllowed,
    CallResult,
    ConnectorError,
    HostNotAllowed,
    PermanentError,
    Redirected,
    ResponseTooLarge,
    TransientError,
)
from orderpilot.adapters.connectors.endpoints import SIM, Endpoints, endpoints_from_settings
from orderpilot.adapters.connectors.registry import Connectors

__all__ = ["SIM", "AddressNotAllowed", "CallResult", "ConnectorError", "Connectors", "Endpoints",
           "HostNotAllowed", "PermanentError", "Redirected", "ResponseTooLarge",
           "TransientError", "endpoints_from_settings"]
