"""Opening the hub for a command: every `orderpilot` command that needs the database comes here,
so the command modules import this and never each other (nor main)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.errors import OrderpilotError

console = Console(stderr=True)
_chosen: dict[str, Path | None] = {"data_dir": None}


def choose_data_dir(data_dir: Path | None) -> None:
    """Called by the `orderpilot` callback before every command (so an earlier invocation in
    the same process leaves nothing behind)."""
    _chosen["data_dir"] = data_dir


def chosen_data_dir() -> Path | None:
    """The data directory given to this command (`orderpilot --data-dir DIR ...`, or
    ORDERPILOT_DATA_DIR), or None when neither was given."""
    return _chosen["data_dir"]


def cli_settings(**values: Any) -> Settings:
    """The settings of this command: the environment, then the global --data-dir, then
    VALUES (which win)."""
    data_dir = chosen_data_dir()
    if data_dir is not None:
        values.setdefault("data_dir", data_dir)
    return Settings(**values)


def open_hub(upgrade: bool = True, *, check: bool = True,
             settings: Settings | None = None) -> Hub:
    """Build the hub; the embedded SQLite file is brought to the latest schema on the way.

    With ``check`` off the schema is left as it is (the ``db`` commands and the demo, which
    migrate it themselves)."""
    from orderpilot.adapters import migrations  # alembic: loaded only by commands that open

    hub = bootstrap(settings or cli_settings())
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
