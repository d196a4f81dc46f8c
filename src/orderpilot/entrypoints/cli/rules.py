"""`orderpilot rules ...`: list, export/import as YAML, templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orderpilot.adapters.rule_files import RuleFileError, write_rule_file
from orderpilot.adapters.views.rules import rule_detail, rules_overview
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.rules.templates import TEMPLATES
from orderpilot.entrypoints.cli.hub import fail, open_hub
from orderpilot.services.rules.files import import_rule_files

app = typer.Typer(help="""Automation rules: list, export, import, templates.

Examples:
  orderpilot rules list
  orderpilot rules templates
  orderpilot rules install-template bonded-zone-customs-check --enable
  orderpilot rules export rules/
  orderpilot rules import rules/ --dry-run""", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command("list")
def list_rules() -> None:
    """The rules, their status and version."""
    hub = open_hub()
    try:
        with hub.db.read() as conn:
            rows = rules_overview(conn)
    finally:
        hub.close()
    table = Table("key", "name", "status", "version", "runs")
    for r in rows:
        table.add_row(r["key"], r["name"], r["status"], str(r["published_version"] or "-"),
                      ", ".join(f"{k} {v}" for k, v in sorted(r["runs"].items())))
    out.print(table)


@app.command("templates")
def templates(locale: Annotated[str, typer.Option(help="zh_CN or en")] = "zh_CN") -> None:
    """The template library, with stable ids."""
    table = Table("id", "name", "story", "summary")
    for t in TEMPLATES:
        zh = locale.startswith("zh")
        table.add_row(t.id, t.zh if zh else t.en, t.story, t.summary_zh if zh else t.summary_en)
    out.print(table)


@app.command("install-template")
def install_template(template_id: str,
                     enable: Annotated[bool, typer.Option("--enable",
                                                          help="Enable it at once")] = False,
                     ) -> None:
    """Install a template as a rule (paused unless --enable)."""
    hub = open_hub()
    try:
        rule_id = hub.rules.install_template(template_id, "cli", enable=enable)
        with hub.db.read() as conn:
            rule = rule_detail(conn, rule_id)
    except OrderpilotError as error:
        fail(error)
    finally:
        hub.close()
    assert rule is not None
    out.print(f"installed {template_id} as rule [bold]{rule['key']}[/bold] "
              f"(version {rule['published_version']}, {rule['status']})")


@app.command("export")
def export(directory: Path) -> None:
    """Write every rule's published definition (or draft, if never published) as YAML."""
    directory.mkdir(parents=True, exist_ok=True)
    hub = open_hub()
    try:
        with hub.db.read() as conn:
            details = [rule_detail(conn, r["id"]) for r in rules_overview(conn)]
    finally:
        hub.close()
    for rule in details:
        assert rule is not None
        definition = rule["definition"] or rule["draft"] or {}
        write_rule_file(directory / f"{rule['key']}.yaml",
                        {"key": rule["key"], "status": rule["status"], **definition})
    out.print(f"exported {len(details)} rule(s) to {directory}")


@app.command("import")
def import_rules(directory: Path,
                 dry_run: Annotated[bool, typer.Option("--dry-run",
                                                       help="Check only")] = False) -> None:
    """Create or update rules from YAML files; every file is checked before anything
    changes. Changed rules get a new version."""
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        err.print(f"[red]no .yaml files in {directory}")
        raise typer.Exit(1)
    hub = open_hub()
    try:
        plan = import_rule_files(hub.rules, files, "cli", dry_run=dry_run)
    except RuleFileError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error
    finally:
        hub.close()
    for key, what in plan:
        out.print(f"{'would ' if dry_run else ''}{what}: {key}")
    out.print(f"{len(plan)} file(s) {'checked' if dry_run else 'imported'}")
