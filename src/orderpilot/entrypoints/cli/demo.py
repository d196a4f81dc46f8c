"""`orderpilot demo`: the hub with a live, simulated company streaming orders and reports into it.

Everything lives in one data directory (SQLite file, secret key, logins), so a second run
carries on where the first stopped and prints the same logins.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import structlog
import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.config import Settings
from orderpilot.domain import reporters
from orderpilot.domain.access import ROLE_NAMES, ROLES
from orderpilot.domain.expectations import TEMPLATES as EXPECTATION_TEMPLATES
from orderpilot.entrypoints.cli.hub import chosen_data_dir, open_hub
from orderpilot.entrypoints.expectation_analysis import evaluator
from orderpilot.services import accounts, expectations
from orderpilot.simulators import demo_channels, demo_history, demo_inventory, demo_rules
from orderpilot.simulators.demo_channels import ChannelFeed
from orderpilot.simulators.demo_company import COMPANY, REPORTING_SOURCES
from orderpilot.simulators.demo_history import HistorySize
from orderpilot.simulators.demo_stream import DemoStream

log = structlog.get_logger("orderpilot.demo")
console = Console()
CREDENTIALS_FILE = "demo-credentials.txt"
TOKEN_FILE = "demo-simulator-token"
CONSOLE_PATH = "/console"
DEMO_DATA_DIR = Path("data/demo")  # apart from `serve`'s data/, so the demo never mixes in


def install_expectations(hub: Hub) -> None:
    """The seed's four expectations, published as ops would from the templates: each is
    evaluated over the history at once (the board of breaches is full on first sight) and
    watched live from then on."""
    for template in EXPECTATION_TEMPLATES:
        body = dict(template)
        code = str(body.pop("code"))
        expectations.publish(hub.uow, hub.clock, code, body, "demo", evaluator(hub))


# Run once the history is in, before the live stream starts: what the demo sets up on top of
# the past.
AFTER_HISTORY: list[Callable[[Hub], None]] = [install_expectations]


def _write_private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def ensure_logins(hub: Hub, data_dir: Path) -> dict[str, str | None]:
    """One console user per role, named after the role. Passwords are generated once and kept
    in the credentials file; a user whose password is not in the file shows as None."""
    path = data_dir / CREDENTIALS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, password = line.partition("\t")
            if password and not name.startswith("#"):
                stored[name] = password
    logins: dict[str, str | None] = {}
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        for role in ROLES:
            if repo.user_by_name(role) is None:
                stored[role] = secrets.token_urlsafe(9)
                accounts.create_user(repo, role, stored[role], role, hub.clock,
                                     f"{ROLE_NAMES[role][0]} (demo)")
            logins[role] = stored.get(role)
    lines = [f"# orderpilot demo logins, {COMPANY}; for the demo only", "# username\tpassword"]
    _write_private(path, "\n".join([*lines, *(f"{u}\t{p}" for u, p in stored.items())]) + "\n")
    return logins


def ensure_token(hub: Hub, data_dir: Path) -> str:
    """The simulator's API token (ops role, issued for every source the simulated company
    reports as), kept in the data directory for the next run."""
    path = data_dir / TOKEN_FILE
    scopes = set(reporters.source_scopes(REPORTING_SOURCES))
    if path.exists():
        token = path.read_text().strip()
        with hub.db.read() as conn:
            known = accounts.principal_for_token(AccountRepository(conn), token)
        if known is not None and scopes <= set(known.scopes):
            return token
    with hub.db.write() as conn:
        _, token = accounts.create_token(AccountRepository(conn), "demo-simulator", "ops",
                                         hub.clock, REPORTING_SOURCES)
    _write_private(path, token + "\n")
    return token


def reset_demo(hub: Hub, data_dir: Path) -> None:
    """Empty the demo's database (every table, logins too) and forget its history's truth."""
    from orderpilot.adapters import migrations

    migrations.downgrade(hub.db, "base")
    migrations.upgrade(hub.db)
    demo_history.truth_path(data_dir).unlink(missing_ok=True)


def load_history(hub: Hub, data_dir: Path, size: HistorySize,
                 stop: threading.Event | None = None) -> dict[str, Any] | None:
    """The past weeks, once, into a fresh demo (with a progress bar); None when the demo
    already has data (a restart) or no history is wanted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    if size.days <= 0 or not demo_history.needs_history(hub, data_dir):
        return None
    label = f"{size.days:g} days of history / 历史订单 ({round(size.days * size.orders_per_day)})"
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(label, total=None)
        truth = demo_history.backfill(
            hub, data_dir, size, stop=stop,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    lag = truth["erp_lag"]
    fixed = sum(listing["count"] for listing in truth["fixed_by_staff"].values())
    console.print(f"history: {truth['orders']} orders, {truth['reports']} reports; ERP books "
                  f"{lag['mean_seconds'] / 60:.1f} min after payment on average; {fixed} "
                  f"orders fixed by staff (sim-ops-1); "
                  f"truth in {demo_history.truth_path(data_dir)}")
    return truth


def _start_company(hub: Hub, data_dir: Path, size: HistorySize, stop: threading.Event,
                   stream_args: tuple[Any, ...]) -> None:
    """Behind the console, which answers already: the history (a fresh demo only), then the
    demo's rules, stock and shops, the dispatchers, the customers and the live stream. The
    history comes first so that the rules, the promotion and the live stock start from today
    and the dispatchers never handle the past on today's clock."""
    try:
        if load_history(hub, data_dir, size, stop):
            for hook in AFTER_HISTORY:
                hook(hub)
        demo_rules.install_rules(hub)
        demo_inventory.setup_demo_inventory(hub)
        demo_channels.connect_shops(hub, str(hub.settings.sim_url))
    except demo_history.HistoryStopped:
        console.print("[yellow]the demo stopped while loading its history: "
                      "`orderpilot demo --reset` loads it again[/yellow]")
        return
    except Exception:  # the console keeps serving; the log says what broke
        log.exception("demo_setup_failed")
        return
    if stop.is_set():
        return
    hub.start_dispatchers(max(hub.settings.dispatcher_threads, 1))
    url, token, speed = stream_args[0], stream_args[1], stream_args[4]
    threading.Thread(target=demo_rules.contact_support, name="demo-support", daemon=True,
                     args=(url, token, stop, 20.0 / speed)).start()
    _simulate(*stream_args)


def _show(url: str, logins: dict[str, str | None], data_dir: Path, rate: float,
          speed: float, sim_url: str | None = None) -> None:
    table = Table(show_header=True, box=None, padding=(0, 2))
    for column in ("role / 角色", "username", "password"):
        table.add_column(column)
    for role, password in logins.items():
        table.add_row(f"{ROLE_NAMES[role][1]} / {ROLE_NAMES[role][0]}", role,
                      password or "[yellow](not in the credentials file)[/yellow]")
    body = Table.grid(padding=(0, 1))
    body.add_row("[bold]Console / 控制台[/bold]", f"[bold cyan]{url}{CONSOLE_PATH}[/bold cyan]")
    body.add_row("API docs", f"{url}/docs")
    if sim_url:
        body.add_row("Simulators / 模拟系统", f"{sim_url}/_sim (customs, SMS, helpdesk, CRM, "
                                              "DingTalk, WeCom, SMTP)")
    body.add_row("Data / 数据", f"{data_dir} (logins in {CREDENTIALS_FILE})")
    body.add_row("Simulator", f"{rate:g} orders/s pushed by the Shopee, Lazada, Shopify "
                              f"(own store) and Youzan simulators; ERP: Kingdee simulator; "
                              f"speed x{speed:g}")
    body.add_row("", "")
    body.add_row("[bold]Logins[/bold]", table)
    body.add_row("", "")
    body.add_row("", "Ctrl-C stops the demo.")
    console.print(Panel(body, title=f"orderpilot demo · {COMPANY}", border_style="cyan"))


def _simulate(base_url: str, token: str, rate: float, seed: int, speed: float,
              stop: threading.Event, result: list[DemoStream],
              before_order: Callable[[dict[str, Any]], None] | None = None,
              sim_url: str | None = None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=15.0) as client:
        deadline = time.monotonic() + 30
        while not stop.is_set():  # wait for uvicorn, which starts in the main thread
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                log.error("demo_server_not_up", url=base_url)
                return
            stop.wait(0.2)
        feed = ChannelFeed(sim_url, base_url, seed) if sim_url else None
        stream = DemoStream(client, rate=rate, seed=seed, speed=speed,
                            before_order=before_order, feed=feed)
        result.append(stream)
        try:
            stream.run(stop)
        except Exception:  # the demo keeps serving even if the simulator breaks
            log.exception("demo_stream_failed")


def demo(
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    data_dir: Annotated[Path | None, typer.Option(
        file_okay=False, help="Where the demo's database and logins live (default: the global "
                              "--data-dir or ORDERPILOT_DATA_DIR, else data/demo)")] = None,
    rate: Annotated[float, typer.Option(min=0.01, max=200, help="Orders per second")] = 3.0,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated company")] = 7,
    speed: Annotated[float, typer.Option(
        min=0.01, max=1000, help="Time factor: at 1 an order's whole life takes ~2 minutes")]
    = 1.0,
    history_days: Annotated[float, typer.Option(
        min=0, max=60, help="Days of past orders loaded into a fresh demo (0: none)")] = 14.0,
    history_orders: Annotated[float, typer.Option(
        min=1, max=2000, help="Past orders per day")] = 75.0,
    reset: Annotated[bool, typer.Option(
        "--reset", help="Empty the demo's database and load its history again")] = False,
) -> None:
    """Run the hub with a simulated company (海豚跨境) streaming orders and system reports.

    Its SQLite file and logins (demo-credentials.txt) live in data/demo
    unless --data-dir or ORDERPILOT_DATA_DIR names another directory. A fresh demo first
    loads the past weeks (docs/demo.md: the ERP's 12-minute lag, lost WMS callbacks, open
    receivables, discrepancies), the truth of which is in demo/truth.json; --reset starts over.

    Examples:
      orderpilot demo
      orderpilot demo --port 8080 --rate 10
      orderpilot demo --reset --history-days 7
      orderpilot --data-dir data/demo token create --role ops --name my-shop"""
    import uvicorn

    from orderpilot.adapters import migrations
    from orderpilot.entrypoints.api.app import create_app

    data_dir = data_dir or chosen_data_dir() or DEMO_DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, host=host, port=port)
    sim = None if settings.sim_url else demo_rules.start_simulators()
    if sim is not None:
        settings = Settings(data_dir=data_dir, host=host, port=port, sim_url=sim.url)
    hub = open_hub(check=False, settings=settings)
    stop = threading.Event()
    streams: list[DemoStream] = []
    try:
        migrations.upgrade(hub.db)
        if reset:
            if not hub.db.is_sqlite:  # a server database may hold more than the demo
                raise typer.BadParameter(
                    f"--reset empties the demo's own SQLite file only; {hub.db.shown_url} is a "
                    "server database: drop and create it yourself", param_hint="--reset")
            reset_demo(hub, data_dir)
        logins = ensure_logins(hub, data_dir)
        token = ensure_token(hub, data_dir)
        app = create_app(hub)  # the dispatchers start once the company is set up
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{local}:{port}"
        _show(url, logins, data_dir, rate, speed, hub.settings.sim_url)
        simulator = threading.Thread(
            target=_start_company, name="demo-simulator", daemon=True,
            args=(hub, data_dir, HistorySize(history_days, history_orders, seed), stop,
                  (url, token, rate, seed, speed, stop, streams, None, hub.settings.sim_url)))
        simulator.start()
        # uvicorn in the main thread owns Ctrl-C: it stops serving, then we stop the rest.
        uvicorn.run(app, host=host, port=port, log_level=hub.settings.log_level.lower(),
                    access_log=False, proxy_headers=False)
        stop.set()
        simulator.join(timeout=20)
    finally:
        stop.set()
        hub.close()
        if sim is not None:
            sim.stop()
    if streams:
        console.print(f"demo stopped: {streams[0].stats.line()}")
