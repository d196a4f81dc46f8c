"""`orderpilot user ...`: console users: create, list, password, reset, role, disable, enable."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.access import ROLES
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.cli.hub import console, fail, open_hub
from orderpilot.services import accounts

user_app = typer.Typer(help="""Console users: create, list, change a role, reset, disable.

Examples:
  orderpilot user create --username limin --role ops
  orderpilot user list
  orderpilot user role limin finance
  orderpilot user reset limin
  echo "$NEW_PASSWORD" | orderpilot user reset limin --password-stdin
  orderpilot user disable limin""", no_args_is_help=True)

_T = TypeVar("_T")


def _change_accounts(change: Callable[[AccountRepository, Hub], _T]) -> _T:
    """CHANGE in one write transaction; a refused change is a clear error and exit code."""
    hub = open_hub()
    try:
        with hub.db.write() as conn:
            return change(AccountRepository(conn), hub)
    except OrderpilotError as error:
        fail(error)
    finally:
        hub.close()


@user_app.command("create")
def user_create(username: Annotated[str, typer.Option()],
                role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}")],
                password: Annotated[str | None, typer.Option(help="Asked for when left out")]
                = None,
                display_name: str = "", locale: str = "zh_CN") -> None:
    """Create a console user (password hashed with argon2)."""
    password = password or getpass.getpass("password: ")
    _change_accounts(lambda repo, hub: accounts.create_user(
        repo, username, password, role, hub.clock, display_name, locale))
    console.print(f"user {username} ({role}) created")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON array")]
              = False) -> None:
    """Every console user: role, state, signed-in sessions (never a password)."""
    hub = open_hub()
    try:
        with hub.db.read() as conn:
            users = accounts.list_users(AccountRepository(conn), hub.clock)
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps([{
            "username": u.username, "display_name": u.display_name, "role": u.role,
            "disabled": u.disabled, "password_temporary": u.password_temporary,
            "live_sessions": u.live_sessions, "created_at": u.created_at.isoformat()}
            for u in users], ensure_ascii=False))
        return
    table = Table("username", "name", "role", "state", "sessions", "created (UTC)")
    for u in users:
        state = "[red]disabled[/red]" if u.disabled else "active"
        if u.password_temporary:
            state += " (one-time password)"
        table.add_row(u.username, u.display_name, u.role, state, str(u.live_sessions),
                      str(u.created_at)[:19])
    Console().print(table)


@user_app.command("password")
def user_password(username: str,
                  password: Annotated[str | None, typer.Option(help="Asked for when left out")]
                  = None) -> None:
    """Set a user's password; every console session of theirs ends at once."""
    password = password or getpass.getpass("new password: ")
    ended = _change_accounts(lambda repo, hub: accounts.change_password(
        repo, username, password, hub.clock))
    console.print(f"password of {username} changed; {ended} session(s) signed out")


@user_app.command("reset")
def user_reset(username: str,
               password_stdin: Annotated[bool, typer.Option(
                   "--password-stdin", help="Read the new password from standard input "
                                            "instead of generating one")] = False) -> None:
    """Reset a forgotten password; the user chooses a new one at the next sign-in.

    A one-time password is printed once, as the last line (or the one
    given on standard input is set). Every console session of the user
    ends at once."""
    given = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not given:
        console.print("[red]error (password):[/red] nothing on standard input")
        raise typer.Exit(1)
    password, ended = _change_accounts(lambda repo, hub: accounts.reset_password(
        repo, username, given, hub.clock))
    console.print(f"password of {username} reset; {ended} session(s) signed out; they choose "
                  "a new one at the next sign-in")
    if not password_stdin:
        console.print("one-time password (shown once):")
        typer.echo(password)


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user: they cannot sign in, and their console sessions end at once.

    The last active administrator cannot be disabled."""
    _set_disabled(username, True)


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Let a disabled user sign in again (their old sessions stay ended)."""
    _set_disabled(username, False)


def _set_disabled(username: str, disabled: bool) -> None:
    ended = _change_accounts(lambda repo, hub: accounts.set_disabled(
        repo, username, disabled, hub.clock))
    state = f"disabled; {ended} session(s) signed out" if disabled else "enabled"
    console.print(f"user {username} {state}")


@user_app.command("role")
def user_role(username: str,
              role: Annotated[str, typer.Argument(help=f"One of {', '.join(ROLES)}")]) -> None:
    """Give a user another role. The last active administrator keeps theirs."""
    _change_accounts(lambda repo, hub: accounts.set_role(repo, username, role, hub.clock))
    console.print(f"user {username} is now {role}")
