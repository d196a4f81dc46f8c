"""Console users (argon2 password hashes) and API tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orderpilot.domain import reporters
from orderpilot.domain.access import ROLES
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.events import new_id
from orderpilot.domain.records import User
from orderpilot.services import audit_trail
from orderpilot.services.repositories import Accounts
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
    scopes: tuple[str, ...] = ()  # a token's: source:<name> for each system it reports as
    must_change_password: bool = False  # a user signed in with a password an admin reset


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role",
                           zh=f"未知角色 {role!r}；可用角色：{'、'.join(ROLES)}")


def create_token(accounts: Accounts, name: str, role: str, clock: Clock,
                 sources: Iterable[str] = ()) -> tuple[str, str]:
    """Returns (token id, the token). The token itself is shown once and never stored.
    ``sources`` are the systems it may report as; without any it reports as nobody."""
    _check_role(role)
    if not name.strip() or len(name) > 100:
        raise InvalidInput("token name must be 1-100 characters", field="name",
                           zh="令牌名称应为 1-100 个字符")
    scopes = reporters.source_scopes(sources)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    accounts.add_token(token_id, name.strip(), role, hash_token(token), clock(),
                       scopes=" ".join(scopes))
    audit_trail.record(accounts, clock, "token.create", subject_type="token",
                       subject_id=token_id, after={"name": name.strip(), "role": role,
                                                   "scopes": list(scopes)})
    return token_id, token


def revoke_token(accounts: Accounts, token_id: str, clock: Clock) -> bool:
    """Revoke a token (it stops working within the API's token cache time)."""
    before = next((tk for tk in accounts.tokens() if tk.id == token_id), None)
    if not accounts.revoke_token(token_id, clock()):
        return False
    audit_trail.record(accounts, clock, "token.revoke", subject_type="token",
                       subject_id=token_id,
                       before={"name": before.name if before else "", "revoked": False},
                       after={"revoked": True})
    return True


def principal_for_token(accounts: Accounts, token: str) -> Principal | None:
    row = accounts.token_by_hash(hash_token(token))
    if row is None:
        return None
    return Principal(row.name, row.role, "token", row.id, tuple(row.scopes.split()))


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(accounts: Accounts, username: str, password: str, role: str, clock: Clock,
                display_name: str = "", locale: str = "zh_CN", *,
                temporary: bool = False) -> str:
    """A new console user; with TEMPORARY they choose their own password at the first
    sign-in (an administrator created it for them)."""
    _check_role(role)
    if not _USERNAME.match(username):
        raise InvalidInput("username: 2-64 lowercase letters, digits, _ . -", field="username",
                           zh="用户名：2-64 个小写字母、数字、_ . -")
    _check_password(password)
    if accounts.user_by_name(username) is not None:
        raise Conflict(f"user {username} exists already", field="username",
                       zh=f"用户 {username} 已存在")
    user_id = new_id()
    accounts.add_user({"id": user_id, "username": username, "display_name": display_name,
                       "role": role, "password_hash": _hasher.hash(password),
                       "locale": locale, "created_at": clock(),
                       "password_temporary": temporary})
    audit_trail.record(accounts, clock, "user.create", subject_type="user", subject_id=user_id,
                       after={"username": username, "display_name": display_name,
                              "role": role, "disabled": False})
    return user_id


class PasswordStore(Protocol):
    """What signing in needs: the console reads users outside a write transaction."""

    def user_by_name(self, username: str) -> User | None: ...
    def set_password(self, user_id: str, password_hash: str) -> None: ...


def authenticate(accounts: PasswordStore, username: str, password: str) -> Principal | None:
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
    return Principal(row.username, row.role, "user", row.id,
                     must_change_password=row.password_temporary)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password",
                           zh="密码至少需要 8 个字符")


def _user(accounts: Accounts, username: str) -> User:
    row = accounts.user_by_name(username)
    if row is None:
        raise NotFound.coded("user.not_found", field="username", username=username)
    return row


# Console sessions live in the database, so ending one takes effect on the next request. The
# cookie carries a random key; only its hash is stored, so a copy of the table signs no one in.

def start_session(accounts: Accounts, user_id: str, clock: Clock, hours: float) -> str:
    key = secrets.token_urlsafe(32)
    now = clock()
    accounts.add_session(hash_token(key), user_id, now, now + timedelta(hours=hours))
    return key


def principal_for_session(accounts: Accounts, key: str, clock: Clock) -> Principal | None:
    row = accounts.session_user(hash_token(key), clock())
    if row is None or row.disabled:
        return None
    return Principal(row.username, row.role, "user", row.id,
                     must_change_password=row.password_temporary)


def end_session(accounts: Accounts, key: str) -> None:
    accounts.end_session(hash_token(key))


def change_password(accounts: Accounts, username: str, password: str,
                    clock: Clock | None = None) -> int:
    """Set a new password and end every session of the user; returns how many ended. The
    trail says it happened, never the password."""
    _check_password(password)
    row = _user(accounts, username)
    accounts.set_password(row.id, _hasher.hash(password))
    accounts.mark_password_temporary(row.id, False)
    ended = int(accounts.end_sessions_of(row.id))
    if clock is not None:
        audit_trail.record(accounts, clock, "user.password_change", subject_type="user",
                           subject_id=row.id, detail={"username": username,
                                                      "sessions_ended": ended})
    return ended


def reset_password(accounts: Accounts, username: str, password: str | None = None,
                   clock: Clock | None = None) -> tuple[str, int]:
    """An administrator's reset: PASSWORD, or a generated one; either way it is temporary (the
    console asks for a new one at the next sign-in) and every session of the user ends.
    Returns (the password, sessions ended)."""
    password = password or temporary_password()
    _check_password(password)
    row = _user(accounts, username)
    accounts.set_password(row.id, _hasher.hash(password))
    accounts.mark_password_temporary(row.id, True)
    ended = int(accounts.end_sessions_of(row.id))
    if clock is not None:
        audit_trail.record(accounts, clock, "user.password_reset", subject_type="user",
                           subject_id=row.id, before={"password_temporary":
                                                      row.password_temporary},
                           after={"password_temporary": True},
                           detail={"username": username, "sessions_ended": ended})
    return password, ended


def _keep_an_admin(accounts: Accounts, row: User) -> None:
    """Refuse to take away the last enabled administrator: no one could manage users then.
    The administrators' rows stay locked until the change commits."""
    admins = accounts.active_admin_ids()
    if row.id in admins and len(admins) == 1:
        raise Conflict(f"{row.username} is the last active administrator; enable or create "
                       "another administrator first", field="username", code="last_admin",
                       zh=f"{row.username} 是最后一个启用的管理员；请先启用或创建另一个管理员")


def set_disabled(accounts: Accounts, username: str, disabled: bool,
                 clock: Clock | None = None) -> int:
    """Disable (ending every session at once) or enable a user; returns sessions ended.
    The last active administrator cannot be disabled."""
    row = _user(accounts, username)
    if disabled:
        _keep_an_admin(accounts, row)
    accounts.set_disabled(row.id, disabled)
    ended = int(accounts.end_sessions_of(row.id)) if disabled else 0
    if clock is not None and row.disabled != disabled:
        audit_trail.record(accounts, clock, "user.disable" if disabled else "user.enable",
                           subject_type="user", subject_id=row.id,
                           before={"disabled": row.disabled}, after={"disabled": disabled},
                           detail={"username": username, "sessions_ended": ended})
    return ended


def set_role(accounts: Accounts, username: str, role: str, clock: Clock) -> None:
    """Give a user another role; the last active administrator keeps theirs."""
    _check_role(role)
    row = _user(accounts, username)
    if row.role == role:
        return
    if row.role == "admin":
        _keep_an_admin(accounts, row)
    accounts.set_role(row.id, role)
    audit_trail.record(accounts, clock, "user.role_change", subject_type="user",
                       subject_id=row.id, before={"role": row.role}, after={"role": role},
                       detail={"username": username})


def end_session_of(accounts: Accounts, username: str, session: str, clock: Clock) -> int:
    """Sign one console session of a user out (SESSION: the start of its key hash)."""
    row = _user(accounts, username)
    if len(session) < 8:
        raise InvalidInput("session: at least 8 characters of its id", field="session",
                           zh="会话：至少需要会话标识的 8 个字符")
    ended = int(accounts.end_session_of(row.id, session))
    if ended:
        audit_trail.record(accounts, clock, "session.end", subject_type="user",
                           subject_id=row.id, detail={"username": username,
                                                      "session": session[:12]})
    return ended


@dataclass(frozen=True)
class UserSummary:
    """A console user as `orderpilot user list` shows them (never the password hash)."""
    username: str
    display_name: str
    role: str
    disabled: bool
    password_temporary: bool
    live_sessions: int
    created_at: datetime


def list_users(accounts: Accounts, clock: Clock) -> list[UserSummary]:
    sessions = accounts.live_sessions(clock())
    return [UserSummary(u.username, u.display_name, u.role, u.disabled, u.password_temporary,
                        sessions.get(u.id, 0), u.created_at) for u in accounts.users()]
