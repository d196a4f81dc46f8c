"""The `orderpilot` command: serve, worker, db, token, user, import/export, demo, bench."""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.access import ROLES
from orderpilot.domain.audit import Actor
from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.cli import (
    audit,
    audit_log,
    bench,
    channels,
    demo,
    integrations,
    inventory,
    reconcile,
    return_policy,
    rules,
    sim,
    simulate,
    users,
)
from orderpilot.entrypoints.cli import order_sheets as transfer
from orderpilot.entrypoints.cli.hub import choose_data_dir, console, fail, open_hub
from orderpilot.services import accounts, audit_trail
from orderpilot.startup import settle_heap

app = typer.Typer(help="""orderpilot: the order-operations hub.

Options before the command (--data-dir) apply to every command.

Examples:
  orderpilot demo
  orderpilot --data-dir data/demo token create --role ops --name my-shop
  orderpilot serve --port 8080
  orderpilot user list
  orderpilot dispatch status --json""", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
token_app = typer.Typer(help="""API tokens.

Examples:
  orderpilot token create --role ops --name my-shop
  orderpilot token create --role warehouse --name wms --source wms
  orderpilot token list
  orderpilot token revoke TOKEN_ID""", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(users.user_app, name="user")
dispatch_app = typer.Typer(help="""The outbox: backlog and dead letters.

Examples:
  orderpilot dispatch status
  orderpilot dispatch status --json | jq .backlog.outbox_pending
  orderpilot dispatch retry""",
                           no_args_is_help=True)
app.add_typer(dispatch_app, name="dispatch")


# Commands that run workers, timers, pulls, simulations or benchmarks: what happens in them is
# the system's doing, not the operator's decision, so they do not act as the operator.
NOT_ACTING = frozenset({"serve", "worker", "demo", "sim", "simulate", "bench", "channels",
                        "inventory", "reconcile", "audit"})


def operator() -> Actor:
    """The person at the terminal, recorded in the audit trail as an administrator (whoever
    can run the CLI on the hub's host can do anything)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "unknown"
    return Actor(name[:100] or "unknown", "admin", "cli", "cli")


@app.callback()
def main(ctx: typer.Context, data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="ORDERPILOT_DATA_DIR", show_envvar=True, file_okay=False,
        help="The data directory (SQLite file, secret key, demo logins) of every command. "
             "Default: data, and data/demo for `orderpilot demo`.")] = None) -> None:
    choose_data_dir(data_dir)
    if ctx.invoked_subcommand not in NOT_ACTING:
        ctx.with_resource(audit_trail.acting_as(operator()))


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Bind address")] = None,
          port: Annotated[int | None, typer.Option(help="Port")] = None) -> None:
    """Run the API, the console and (unless disabled) the dispatcher in one process.

    SIGTERM (systemctl stop) or Ctrl-C: stop listening, finish the requests in flight
    (ORDERPILOT_SHUTDOWN_GRACE_SECONDS) and the dispatcher's batch, exit with status 0.

    Examples:
      orderpilot serve
      orderpilot --data-dir /var/lib/orderpilot serve --host 0.0.0.0 --port 8080
      ORDERPILOT_EMBEDDED_DISPATCHER=false orderpilot serve   # with `orderpilot worker`"""
    import uvicorn

    from orderpilot.entrypoints.api.app import create_app

    hub = open_hub()
    # The API's event loop shares the interpreter with the dispatcher, rule runner and channel
    # worker threads: a shorter switch interval (default 5 ms) keeps acknowledgements (a
    # platform's push, an order) from waiting behind their batches. Measured: bench channels.
    sys.setswitchinterval(0.001)
    if host:  # the session cookie's Secure flag depends on where the hub listens
        hub.settings = hub.settings.model_copy(update={"host": host})
    s = hub.settings
    threads = s.dispatcher_threads if s.embedded_dispatcher else 0
    # On SIGTERM (or Ctrl-C) uvicorn stops listening, lets requests in flight finish (for up
    # to ORDERPILOT_SHUTDOWN_GRACE_SECONDS), then the app's shutdown lets the dispatcher
    # threads finish their batch. uvicorn then raises the signal again with the handler found
    # before it: this one, so the drained process ends with status 0 instead of dying by it.
    # (Set once the app is built: a signal before uvicorn listens still stops the process.)
    application = create_app(hub, dispatcher_threads=threads)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    settle_heap()
    try:
        # proxy_headers off: X-Forwarded-For counts only from ORDERPILOT_TRUSTED_PROXIES,
        # never because the peer is loopback (uvicorn's default).
        uvicorn.run(application, host=s.host,
                    port=port or s.port, log_level=s.log_level.lower(), access_log=False,
                    proxy_headers=False, timeout_graceful_shutdown=s.shutdown_grace_seconds)
    finally:
        hub.close()


@app.command()
def worker(threads: Annotated[int, typer.Option(min=1, max=32,
                                                help="Dispatcher threads")] = 2,
           metrics_port: Annotated[int | None, typer.Option(
               min=1, max=65535, help="Serve this worker's Prometheus metrics (dispatch lag, "
                                      "outcomes) at http://HOST:PORT/metrics")] = None,
           metrics_host: Annotated[str, typer.Option(
               help="Address of --metrics-port")] = "127.0.0.1") -> None:
    """Deliver events and fire timers; run as many as you like against PostgreSQL.

    SIGTERM (systemctl stop) or Ctrl-C: each thread finishes the batch it holds, then the
    worker exits with status 0.

    Examples:
      orderpilot worker --threads 4
      orderpilot worker --threads 2 --metrics-port 9101"""
    hub = open_hub(upgrade=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, metrics_host, registry=hub.metrics.registry)
    settle_heap()
    hub.start_dispatchers(threads)
    console.print(f"worker running with {threads} dispatcher thread(s); Ctrl-C stops it")
    stop.wait()
    console.print("worker stopping: finishing the batches in hand")
    hub.close()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the schema to REVISION (default: the latest)."""
    from orderpilot.adapters import migrations

    hub = open_hub(check=False)
    migrations.upgrade(hub.db, revision)
    console.print(f"database at {migrations.current(hub.db)}")
    hub.close()


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Take the schema back to REVISION ('base' drops everything)."""
    from orderpilot.adapters import migrations

    hub = open_hub(check=False)
    migrations.downgrade(hub.db, revision)
    console.print(f"database at {migrations.current(hub.db)}")
    hub.close()


@db_app.command("current")
def db_current() -> None:
    from orderpilot.adapters import migrations

    hub = open_hub(check=False)
    typer.echo(migrations.current(hub.db) or "empty")
    hub.close()


@token_app.command("create")
def token_create(role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}")],
                 name: Annotated[str, typer.Option(help="Who or what uses it")],
                 source: Annotated[list[str] | None, typer.Option(
                     help="A system the token reports as (wms, shopee, kingdee, a stock "
                          "source code...); repeat for several. Without one it may not "
                          "report events or push stock levels.")] = None) -> None:
    """Create an API token; it is printed once, as the last line."""
    hub = open_hub()
    where = hub.db.shown_url
    try:
        with hub.db.write() as conn:
            token_id, token = accounts.create_token(AccountRepository(conn), name, role,
                                                    hub.clock, source or ())
    except OrderpilotError as error:
        fail(error)
    finally:
        hub.close()
    reports = ", ".join(source or ()) or "no source (it may not report events)"
    # Where it was made: a hub reading another data directory (--data-dir) will not know it.
    console.print(f"token {token_id} for {name} ({role}; reports as {reports}) in "
                  f"{escape(where)}; keep it secret, it is not shown again")
    typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never the tokens themselves)."""
    from rich.table import Table

    hub = open_hub()
    with hub.db.read() as conn:
        rows = AccountRepository(conn).tokens()
    hub.close()
    table = Table("id", "name", "role", "scopes", "created", "revoked")
    for r in rows:
        table.add_row(r.id, r.name, r.role, r.scopes, str(r.created_at)[:19],
                      str(r.revoked_at or "")[:19])
    Console().print(table)


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id; running servers stop accepting it within 30 seconds."""
    hub = open_hub()
    with hub.db.write() as conn:
        done = accounts.revoke_token(AccountRepository(conn), token_id, hub.clock)
    hub.close()
    if not done:
        console.print(f"[red]no active token {token_id}")
        raise typer.Exit(1)
    console.print(f"token {token_id} revoked")


@dispatch_app.command("status")
def dispatch_status(as_json: Annotated[bool, typer.Option(
        "--json", help="One JSON object: backlog counts and dead letters")] = False) -> None:
    """Backlog counts and dead-lettered events with their last error."""
    from rich.table import Table

    hub = open_hub()
    try:
        with hub.db.read() as conn:
            backlog, dead = read_models.backlog(conn), read_models.dead_letters(conn)
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps({"backlog": backlog, "dead": dead}, ensure_ascii=False))
        return
    out = Console()
    counts = Table("backlog", "count", title="Dispatch", title_justify="left")
    for key, label in BACKLOG_LABELS.items():
        counts.add_row(label, str(backlog.get(key, 0)))
    out.print(counts)
    if not dead:
        out.print("no dead letters")
        return
    letters = Table("kind", "id", "event", "order", "attempts", "last error",
                    title="Dead letters (orderpilot dispatch retry [ID] queues them again)",
                    title_justify="left")
    for d in dead:
        error = (d["last_error"] or "").strip().splitlines()[-1:] or [""]
        letters.add_row(d["kind"], d["id"], d["event_type"], d["order_id"] or "",
                        str(d["attempts"]), error[0], style="red")
    out.print(letters)


BACKLOG_LABELS = {"outbox_pending": "events waiting for delivery",
                  "outbox_dead": "events dead-lettered",
                  "timers_pending": "timers waiting to fire"}


@dispatch_app.command("retry")
def dispatch_retry(event_id: Annotated[str | None, typer.Argument(
        help="One dead event; all dead events when left out")] = None) -> None:
    """Put dead-lettered events back in the queue."""
    hub = open_hub()
    with hub.uow() as uow:
        count = uow.outbox.retry_dead(hub.clock(), event_id)
    hub.close()
    console.print(f"{count} event(s) queued again")


# Commands that live in their own modules.
app.add_typer(channels.channels_app, name="channels")
app.add_typer(transfer.import_app, name="import")
app.add_typer(transfer.export_app, name="export")
app.command()(demo.demo)
app.command()(simulate.simulate)
app.add_typer(bench.bench_app, name="bench")
app.add_typer(audit.app, name="audit")
app.add_typer(audit_log.app, name="audit-log")
app.add_typer(sim.app, name="sim")
app.add_typer(integrations.app, name="integrations")
app.add_typer(rules.app, name="rules")
app.command("reconcile")(reconcile.reconcile)
app.add_typer(inventory.inventory_app, name="inventory")
transfer.import_app.command("levels")(inventory.import_levels)
transfer.import_app.command("return-policy")(return_policy.import_return_policy)
