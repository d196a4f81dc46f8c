"""Outbound connectors: how rule actions call the outside world (see registry.Connectors)."""

from orderpilot.adapters.connectors.base import (
    CallResult,
    ConnectorError,
    HostNotAllowed,
    PermanentError,
    TransientError,
)
from orderpilot.adapters.connectors.endpoints import SIM, Endpoints, endpoints_from_settings
from orderpilot.adapters.connectors.registry import Connectors

__all__ = ["SIM", "CallResult", "ConnectorError", "Connectors", "Endpoints", "HostNotAllowed",
           "PermanentError", "TransientError", "endpoints_from_settings"]
