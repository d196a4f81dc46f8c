"""Console users (argon2 password hashes) and API tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orderpilot.domain.access import ROLES
from orderpilot.domain.errors import Conflict, InvalidInput
from orderpilot.domain.events import new_id
from orderpilot.services.unit_of_work import Clock

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
TOKEN_PREFIX = "opk_"


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    kind: str  # token | user
    id: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")


def create_token(accounts: Any, name: str, role: str, clock: Clock) -> tuple[str, str]:
    """Returns (token id, the token). The token itself is shown once and never stored."""
    _check_role(role)
    if not name.strip() or len(name) > 100:
        raise InvalidInput("token name must be 1-100 characters", field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    accounts.add_token(token_id, name.strip(), role, hash_token(token), clock())
    return token_id, token


def principal_for_token(accounts: Any, token: str) -> Principal | None:
    row = accounts.token_by_hash(hash_token(token))
    return None if row is None else Principal(row.name, row.role, "token", row.id)


def create_user(accounts: Any, username: str, password: str, role: str, clock: Clock,
                display_name: str = "", locale: str = "zh_CN") -> str:
    _check_role(role)
    if not _USERNAME.match(username):
        raise InvalidInput("username: 2-64 lowercase letters, digits, _ . -", field="username")
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password")
    if accounts.user_by_name(username) is not None:
        raise Conflict(f"user {username} exists already", field="username")
    user_id = new_id()
    accounts.add_user({"id": user_id, "username": username, "display_name": display_name,
                       "role": role, "password_hash": _hasher.hash(password),
                       "locale": locale, "created_at": clock()})
    return user_id


def authenticate(accounts: Any, username: str, password: str) -> Principal | None:
    row = accounts.user_by_name(username)
    if row is None or row.disabled:
        _hasher.hash(password)  # same work either way, so timing does not reveal usernames
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        accounts.set_password(row.id, _hasher.hash(password))
    return Principal(row.username, row.role, "user", row.id)
