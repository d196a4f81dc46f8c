"""Users, their sessions and API tokens as the API and the console's users page show them
(never a password hash, a session key or a token)."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.domain.errors import NotFound
from orderpilot.services.accounts import list_users
from orderpilot.services.unit_of_work import Clock

SESSION_ID_LENGTH = 16  # the start of a session key's hash names it (the key is never shown)


def user_rows(repo: AccountRepository, clock: Clock) -> list[dict[str, Any]]:
    return [{"username": u.username, "display_name": u.display_name, "role": u.role,
             "disabled": u.disabled, "password_temporary": u.password_temporary,
             "live_sessions": u.live_sessions, "created_at": u.created_at.isoformat()}
            for u in list_users(repo, clock)]


def session_rows(repo: AccountRepository, username: str, clock: Clock) -> list[dict[str, Any]]:
    user = repo.user_by_name(username)
    if user is None:
        raise NotFound.coded("user.not_found", field="username", username=username)
    return [{"id": key_hash[:SESSION_ID_LENGTH], "started_at": started.isoformat(),
             "expires_at": expires.isoformat()}
            for key_hash, started, expires in repo.sessions_of(user.id, clock())]


def token_rows(repo: AccountRepository) -> list[dict[str, Any]]:
    return [{"id": tk.id, "name": tk.name, "role": tk.role, "scopes": tk.scopes.split(),
             "created_at": tk.created_at.isoformat(),
             "revoked_at": tk.revoked_at.isoformat() if tk.revoked_at else None}
            for tk in reversed(repo.tokens())]
