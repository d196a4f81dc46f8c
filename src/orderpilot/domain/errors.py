"""Domain errors carry a stable code, a message and the field at fault.

Hierarchy (the API layer alone maps these to HTTP statuses):

    OrderpilotError
    ├── InvalidInput          bad data; names the field            -> 422
    ├── NotFound              no such order / hold / user          -> 404
    ├── Conflict              clashes with what is stored          -> 409
    │   ├── IllegalTransition the lifecycle does not allow it      -> 409
    │   ├── OrderOnHold       a hold blocks the step               -> 409
    │   └── ConcurrentUpdate  someone changed it first (retryable) -> 409
    └── Forbidden             the role may not do this             -> 403
"""

from __future__ import annotations


class OrderpilotError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(OrderpilotError):
    code = "invalid_input"


class NotFound(OrderpilotError):
    code = "not_found"


class Conflict(OrderpilotError):
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class OrderOnHold(Conflict):
    code = "order_on_hold"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class Forbidden(OrderpilotError):
    code = "forbidden"
