"""Users and API tokens in the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.audit_log import AuditLogRepository
from orderpilot.domain.records import ApiToken, User


class AccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.audit_log = AuditLogRepository(conn)  # account changes are recorded beside them

    def add_token(self, token_id: str, name: str, role: str, token_hash: str,
                  now: datetime, scopes: str = "") -> None:
        self.conn.execute(t.api_tokens.insert(), {"id": token_id, "name": name, "role": role,
                                                  "token_hash": token_hash, "created_at": now,
                                                  "scopes": scopes})

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(sa.select(t.api_tokens).where(
            t.api_tokens.c.token_hash == token_hash, t.api_tokens.c.revoked_at.is_(None))).first()
        return None if row is None else ApiToken(*row)

    def revoke_token(self, token_id: str, now: datetime) -> bool:
        return self.conn.execute(t.api_tokens.update().where(
            t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)).rowcount == 1

    def tokens(self) -> list[ApiToken]:
        return [ApiToken(*r) for r in self.conn.execute(
            sa.select(t.api_tokens).order_by(t.api_tokens.c.created_at))]

    def add_user(self, row: Mapping[str, object]) -> None:
        self.conn.execute(t.users.insert(), row)

    def user_by_name(self, username: str) -> User | None:
        row = self.conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        return None if row is None else User(*row)

    def user_by_id(self, user_id: str) -> User | None:
        row = self.conn.execute(sa.select(t.users).where(t.users.c.id == user_id)).first()
        return None if row is None else User(*row)

    def set_password(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(t.users.update().where(t.users.c.id == user_id)
                          .values(password_hash=password_hash))

    def users(self) -> list[User]:
        return [User(*r) for r in self.conn.execute(
            sa.select(t.users).order_by(t.users.c.username))]

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        self.conn.execute(t.users.update().where(t.users.c.id == user_id)
                          .values(disabled=disabled))

    def mark_password_temporary(self, user_id: str, temporary: bool) -> None:
        self.conn.execute(t.users.update().where(t.users.c.id == user_id)
                          .values(password_temporary=temporary))

    def live_sessions(self, now: datetime) -> dict[str, int]:
        """User id -> how many of their console sessions have not expired."""
        s = t.console_sessions
        return {r.user_id: int(r.n) for r in self.conn.execute(
            sa.select(s.c.user_id, sa.func.count().label("n")).where(s.c.expires_at > now)
            .group_by(s.c.user_id))}

    def add_session(self, key_hash: str, user_id: str, now: datetime,
                    expires_at: datetime) -> None:
        self.conn.execute(t.console_sessions.delete().where(
            t.console_sessions.c.expires_at <= now))  # sign-ins sweep the expired ones
        self.conn.execute(t.console_sessions.insert(), {
            "key_hash": key_hash, "user_id": user_id, "created_at": now,
            "expires_at": expires_at})

    def session_user(self, key_hash: str, now: datetime) -> User | None:
        """The user of a live session (whatever their state), or None."""
        s = t.console_sessions
        row = self.conn.execute(sa.select(t.users).join(s, s.c.user_id == t.users.c.id).where(
            s.c.key_hash == key_hash, s.c.expires_at > now)).first()
        return None if row is None else User(*row)

    def end_session(self, key_hash: str) -> None:
        self.conn.execute(t.console_sessions.delete().where(
            t.console_sessions.c.key_hash == key_hash))

    def end_sessions_of(self, user_id: str) -> int:
        return self.conn.execute(t.console_sessions.delete().where(
            t.console_sessions.c.user_id == user_id)).rowcount

    def set_role(self, user_id: str, role: str) -> None:
        self.conn.execute(t.users.update().where(t.users.c.id == user_id).values(role=role))

    def active_admin_ids(self) -> list[str]:
        """The enabled administrators, their rows locked until the transaction ends (on
        PostgreSQL; SQLite writers are serialised already): two admins demoting each other at
        once cannot both pass the last-administrator check."""
        query = sa.select(t.users.c.id).where(t.users.c.role == "admin",
                                              t.users.c.disabled.is_(False)).order_by(t.users.c.id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return [r.id for r in self.conn.execute(query)]

    def sessions_of(self, user_id: str, now: datetime) -> list[tuple[str, datetime, datetime]]:
        """(key hash, started, expires) of the user's live console sessions, newest first."""
        s = t.console_sessions
        return [(r.key_hash, r.created_at, r.expires_at) for r in self.conn.execute(
            sa.select(s.c.key_hash, s.c.created_at, s.c.expires_at).where(
                s.c.user_id == user_id, s.c.expires_at > now).order_by(s.c.created_at.desc()))]

    def end_session_of(self, user_id: str, key_prefix: str) -> int:
        s = t.console_sessions
        return self.conn.execute(s.delete().where(
            s.c.user_id == user_id, s.c.key_hash.startswith(key_prefix, autoescape=True))).rowcount
