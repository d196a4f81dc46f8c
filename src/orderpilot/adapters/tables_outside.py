"""Outside calls whose outcome the hub must know before it calls again (migration 0006).

One row per provider key (the step's idempotency key as sent: Aliyun OutId, Tencent
SessionContext, Idempotency-Key header, SMTP Message-ID), written and committed *before* the
call goes out. ``status`` is ``calling`` while a call may be on the wire, ``sent`` once the
provider confirmed it (by its answer or by a look-up), ``not_sent`` when the provider refused
it, ``unknown`` after a time-out: a ``calling`` or ``unknown`` row is looked up at the provider
before any resend.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

outside_attempts = sa.Table(
    "outside_attempts", metadata,
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("step_no", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # calling|sent|not_sent|unknown
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("look_ups", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_called_at", Time, nullable=False),
    sa.Column("last_called_at", Time, nullable=False),
    sa.Column("settled_at", Time),
    sa.Column("answer", sa.JSON),  # masked: the provider's answer or what the look-up found
)
