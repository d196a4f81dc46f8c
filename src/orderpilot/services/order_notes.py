"""Notes people write on an order: who, when, what. A note is an ``order.note_added`` event
(so it is on the timeline, in the outbox for rules, and never edited); it changes nothing of
the order itself."""

from __future__ import annotations

from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UowFactory

NOTE_ADDED = "order.note_added"
MAX_NOTE = 2000


def add_note(order_id: str, text: str, by: str, uow_factory: UowFactory,
             clock: Clock) -> OrderEvent:
    text = text.strip()
    if not text:
        raise InvalidInput("text: write the note", field="text", zh="text：请填写备注内容")
    if len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidInput(f"text: at most {MAX_NOTE} characters, no NUL", field="text",
                           zh=f"text：最多 {MAX_NOTE} 个字符，且不含 NUL")
    with uow_factory() as uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
        now = clock()
        event = order.record(NOTE_ADDED, f"user:{by}"[:64], now, now, {"text": text, "by": by})
        uow.events.append([event])
        audit_trail.record(uow, clock, "order.note", subject_type="order", subject_id=order_id,
                           order_id=order_id, after={"note": text})
        return event
