"""Outbound connectors: the shared transport every integration calls through (the guard, HTTP
with the hub's signature, rate limits, masking, errors) and the `Connectors` facade (registry)
that builds each configured integration's client."""

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
from orderpilot.adapters.connectors.http import HttpConnector
from orderpilot.adapters.connectors.outbound import OutboundContext
from orderpilot.adapters.connectors.registry import Connectors

__all__ = ["SIM", "AddressNotAllowed", "CallResult", "ConnectorError", "Connectors", "Endpoints",
           "HostNotAllowed", "HttpConnector", "OutboundContext", "PermanentError", "Redirected",
           "ResponseTooLarge", "TransientError", "endpoints_from_settings"]
