"""`orderpilot integrations list`: the outside systems this hub knows, built in or installed."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from orderpilot.entrypoints.cli.hub import cli_settings
from orderpilot.integrations.registry import IntegrationRegistry

app = typer.Typer(help="The outside systems (built in, or installed as plugins).",
                  no_args_is_help=True)


@app.command("list")
def list_integrations() -> None:
    """Name, titles, what each provides, whether it is configured (never its secrets)."""
    registry = IntegrationRegistry.discover()
    configured = registry.configured(cli_settings())
    table = Table("name", "中文", "English", "provides", "configured", "actions")
    for integration in registry:
        table.add_row(integration.name, integration.title_zh, integration.title_en,
                      ", ".join(sorted(integration.provides)),
                      "yes" if integration.name in configured else "no",
                      ", ".join(str(a.type.id) for a in integration.actions))
    Console(width=200).print(table)
