"""Rules, their immutable versions and audit trail, and the SMS template register."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.domain.records import JsonObject
from orderpilot.domain.rules.records import (
    AuditEntry,
    PublishedRule,
    RuleVersion,
    SmsTemplate,
    StoredRule,
)

_ACTIVE = (
    sa.select(t.rules.c.id, t.rules.c.key, t.rules.c.name, t.rules.c.published_version,
              t.rule_versions.c.definition)
    .join(t.rule_versions, sa.and_(t.rule_versions.c.rule_id == t.rules.c.id,
                                   t.rule_versions.c.version == t.rules.c.published_version))
    .where(t.rules.c.status == "enabled"))


class RuleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, row: Mapping[str, object]) -> None:
        self.conn.execute(t.rules.insert(), row)

    def get(self, rule_id: str) -> StoredRule | None:
        row = self.conn.execute(sa.select(t.rules).where(t.rules.c.id == rule_id)).first()
        return None if row is None else StoredRule(*row)

    def get_by_key(self, key: str) -> StoredRule | None:
        row = self.conn.execute(sa.select(t.rules).where(t.rules.c.key == key)).first()
        return None if row is None else StoredRule(*row)

    def listing(self, status: str | None = None) -> list[StoredRule]:
        query = sa.select(t.rules).order_by(t.rules.c.created_at, t.rules.c.key)
        if status:
            query = query.where(t.rules.c.status == status)
        return [StoredRule(*r) for r in self.conn.execute(query)]

    def update(self, rule_id: str, row_version: int, now: datetime, **values: Any) -> None:
        """Change a rule if nobody else changed it since it was read."""
        result = self.conn.execute(
            t.rules.update().where(t.rules.c.id == rule_id, t.rules.c.row_version == row_version)
            .values(updated_at=now, row_version=row_version + 1, **values))
        if result.rowcount != 1:
            raise ConcurrentUpdate("the rule was changed by someone else meanwhile; reload it",
                                   zh="规则已被他人修改，请重新加载")

    def add_strike(self, rule_id: str) -> int:
        """One more strike against the rule (see services/rules/strikes.py); the new count.
        The row version stays: a strike is not an edit, and editors are not disturbed."""
        self.conn.execute(t.rules.update().where(t.rules.c.id == rule_id)
                          .values(strikes=t.rules.c.strikes + 1))
        return int(self.conn.execute(sa.select(t.rules.c.strikes)
                                     .where(t.rules.c.id == rule_id)).scalar_one())

    def add_version(self, row: Mapping[str, object]) -> None:
        self.conn.execute(t.rule_versions.insert(), row)

    def version(self, rule_id: str, version: int) -> RuleVersion | None:
        row = self.conn.execute(sa.select(t.rule_versions).where(
            t.rule_versions.c.rule_id == rule_id, t.rule_versions.c.version == version)).first()
        return None if row is None else RuleVersion(*row)

    def versions(self, rule_id: str) -> list[RuleVersion]:
        return [RuleVersion(*r) for r in self.conn.execute(
            sa.select(t.rule_versions).where(t.rule_versions.c.rule_id == rule_id)
            .order_by(t.rule_versions.c.version.desc()))]

    def latest_version_number(self, rule_id: str) -> int:
        value = self.conn.execute(sa.select(sa.func.max(t.rule_versions.c.version))
                                  .where(t.rule_versions.c.rule_id == rule_id)).scalar()
        return int(value or 0)

    def audit(self, rule_id: str, action: str, actor: str, now: datetime,
              detail: JsonObject) -> None:
        self.conn.execute(t.rule_audit.insert(), {"rule_id": rule_id, "action": action,
                                                  "actor": actor, "at": now, "detail": detail})

    def audit_trail(self, rule_id: str, limit: int = 200) -> list[AuditEntry]:
        return [AuditEntry(*r) for r in self.conn.execute(
            sa.select(t.rule_audit).where(t.rule_audit.c.rule_id == rule_id)
            .order_by(t.rule_audit.c.seq.desc()).limit(limit))]

    def active(self) -> list[PublishedRule]:
        """Enabled rules with their published definitions."""
        return [PublishedRule(*r) for r in self.conn.execute(_ACTIVE)]

    def generation(self) -> tuple[int, datetime | None, int | None]:
        """Changes whenever any rule changes: the matcher reloads its cache then."""
        count, updated, versions = self.conn.execute(sa.select(
            sa.func.count(), sa.func.max(t.rules.c.updated_at),
            sa.func.sum(t.rules.c.row_version))).one()
        return int(count), updated, None if versions is None else int(versions)


class SmsTemplateRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def all(self) -> list[SmsTemplate]:
        return [SmsTemplate(*r) for r in self.conn.execute(
            sa.select(t.sms_templates).order_by(t.sms_templates.c.code))]

    def get(self, code: str) -> SmsTemplate | None:
        row = self.conn.execute(sa.select(t.sms_templates)
                                .where(t.sms_templates.c.code == code)).first()
        return None if row is None else SmsTemplate(*row)

    def put(self, row: Mapping[str, object]) -> None:
        updated = self.conn.execute(t.sms_templates.update()
                                    .where(t.sms_templates.c.code == row["code"])
                                    .values({k: v for k, v in row.items() if k != "created_at"}))
        if updated.rowcount == 0:
            self.conn.execute(t.sms_templates.insert(), row)
