"""Opening the hub for a command: every `orderpilot` command that needs the database comes here,
so the command modules import this and never each other (nor main)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.errors import OrderpilotError

console = Console(stderr=True)


def open_hub(upgrade: bool = True, *, check: bool = True,
             settings: Settings | None = None) -> Hub:
    """Build the hub; the embedded SQLite file is brought to the latest schema on the way.

    With ``check`` off the schema is left as it is (the ``db`` commands and the demo, which
    migrate it themselves)."""
    from orderpilot.adapters import migrations  # alembic: loaded only by commands that open

    hub = bootstrap(settings or Settings())
    if not check:
        return hub
    if upgrade and hub.db.is_sqlite:
        migrations.upgrade(hub.db)
    elif migrations.current(hub.db) != migrations.head():
        hub.close()
        console.print("[red]The database schema is not current: run `orderpilot db upgrade`.")
        raise typer.Exit(2)
    return hub


def fail(error: OrderpilotError) -> NoReturn:
    """A refused command: the error and its field on stderr, exit code 1."""
    where = f" ({error.field})" if error.field else ""
    console.print(f"[red]error{escape(where)}:[/red] {escape(error.message)}")  # data, not markup
    raise typer.Exit(1)
