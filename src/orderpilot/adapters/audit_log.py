"""Writing the audit trail (domain/audit.py) in the caller's transaction. The read side (search,
export) is adapters/views/audit_log.py."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.audit import AuditEntry


class AuditLogRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, entry: AuditEntry) -> None:
        values = entry._asdict()
        values.pop("seq")
        self.conn.execute(t.audit_log.insert().values(**values))
