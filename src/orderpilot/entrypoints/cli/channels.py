"""`orderpilot channels list|pull|test`: the shops on Shopee, Lazada, TikTok Shop, Shopify,
WooCommerce and Youzan (set them up with PUT /api/v1/channels/{code} or the console)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.cli.hub import fail, open_hub
from orderpilot.services.channels import accounts, pull, return_jobs, tools

channels_app = typer.Typer(help="""Sales channels: list, pull orders, test a connection.

Examples:
  orderpilot channels list
  orderpilot channels test shopee-sg
  orderpilot channels pull shopee-sg --since 2026-12-01T00:00:00+08:00""",
                           no_args_is_help=True)
out = Console()


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO time such as "
                                 f"2026-03-01T00:00:00+08:00", param_hint=option) from None
    if value.tzinfo is None:
        raise typer.BadParameter("give the time zone, e.g. 2026-03-01T00:00:00+08:00",
                                 param_hint=option)
    return value


@channels_app.command("list")
def list_channels() -> None:
    """Every channel account and its health."""
    hub = open_hub()
    try:
        items = accounts.list_accounts(hub.uow)
    finally:
        hub.close()
    table = Table(title="渠道 / Channels")
    for column in ("代码 / code", "平台 / platform", "店铺 / shop", "上次拉取 / last pull",
                   "推送 / pushes", "拒绝 / refused", "错误 / errors"):
        table.add_column(column)
    for a in items:
        h = a["health"]
        table.add_row(a["code"], a["platform"], a["shop_id"], h["last_pull_at"] or "-",
                      str(h["pushes_taken"]), str(h["pushes_refused"]), str(h["errors"]))
    out.print(table)


@channels_app.command("pull")
def pull_orders(code: str,
                since: Annotated[str, typer.Option(help="ISO time with zone: orders updated "
                                                        "from here")],
                until: Annotated[str | None, typer.Option(help="ISO time with zone; default "
                                                               "now")] = None,
                as_json: Annotated[bool, typer.Option("--json", help="Only the JSON")] = False,
                ) -> None:
    """Pull the orders updated in [since, until) from the platform now (backfill or catch up);
    prints a JSON summary."""
    start, end = _when(since, "--since"), _when(until, "--until")
    assert start is not None
    hub = open_hub()
    end = end or hub.clock()
    total = max((end - start).total_seconds(), 1.0)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[n]}"),
                      TimeElapsedColumn(), transient=True, disable=as_json) as bar:
            task = bar.add_task(f"拉取 / pulling {code}", total=total, n="")

            def progress(p: dict[str, Any]) -> None:
                done = (p["slice_end"] - start).total_seconds()
                bar.update(task, completed=done, n=f"{p['seen']} orders, {p['pages']} pages")

            summary = pull.pull(code, start, end, hub.uow, hub.channels, hub.clock,
                                progress=progress)
            returns = return_jobs.pull_returns_too(code, start, end, hub.uow, hub.channels,
                                                   hub.clock)
    except OrderpilotError as error:
        hub.close()
        fail(error)
    hub.close()
    typer.echo(json.dumps(summary.as_json() | {"returns": returns}, ensure_ascii=False))
    if summary.error:
        raise typer.Exit(1)


@channels_app.command("test")
def test(code: str) -> None:
    """One authenticated call to the platform (the connection test)."""
    hub = open_hub()
    try:
        result = tools.test_connection(code, hub.uow, hub.channels, hub.clock)
    except OrderpilotError as error:
        hub.close()
        fail(error)
    hub.close()
    if result["ok"]:
        out.print(f"[green]连接正常 / connected[/] {escape(str(result['detail']))} "
                  f"({result['latency_ms']} ms)")
    else:
        out.print(f"[red]连接失败 / failed[/] {escape(str(result['error']))}")
        raise typer.Exit(1)
