"""The operations console: server-rendered pages (Jinja2 + HTMX) on the same app as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.console import (
    account,
    allocation_retry,
    audit_log,
    auth,
    channels,
    diagnosis,
    exceptions,
    expectations,
    holds,
    order_work,
    outcomes,
    pages,
    reconciliation,
    refused_reports,
    return_metrics,
    return_policy,
    returns,
    tickets,
    users,
    walkthrough,
    webhooks,
    workbench,
    workbench_views,
)
from orderpilot.entrypoints.console.cookies import SessionCookies
from orderpilot.entrypoints.console.guard import SessionGuard
from orderpilot.entrypoints.console.inventory import pages as inventory
from orderpilot.entrypoints.console.inventory import promotions
from orderpilot.entrypoints.console.inventory import sheets as inventory_sheets
from orderpilot.entrypoints.console.inventory import sources as inventory_sources
from orderpilot.entrypoints.console.render import Console
from orderpilot.entrypoints.console.rules import builder as rules_builder
from orderpilot.entrypoints.console.rules import decision_tables
from orderpilot.entrypoints.console.rules import pages as rule_pages
from orderpilot.entrypoints.console.rules import runs as rule_runs
from orderpilot.entrypoints.console.throttle import LoginThrottle
from orderpilot.entrypoints.proxies import TrustedProxies

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "orderpilot_session"
# Every console router; a new page's router joins here (the zh-CN catalogue test reads it).
ROUTERS = (auth.router, account.router, audit_log.router, users.router, pages.router,
           holds.router, workbench.router, workbench_views.router, exceptions.router,
           rule_pages.router, rules_builder.router, rule_runs.router,
           tickets.router, inventory.router, promotions.router,
           decision_tables.router, inventory_sources.router,
           inventory_sheets.router, channels.router, order_work.router,
           walkthrough.router, reconciliation.router, expectations.router,
           diagnosis.router, refused_reports.router, allocation_retry.router,
           outcomes.router, webhooks.router,
           return_metrics.router, return_policy.router,
           returns.router)  # /returns/metrics, /returns/centres before /returns/{id}


def mount(app: FastAPI, hub: Hub) -> None:
    console = Console(hub)
    app.state.console = console
    app.state.login_throttle = LoginThrottle()
    trusted: TrustedProxies = app.state.trusted_proxies  # set by create_app
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.add_exception_handler(auth.LoginRequired, auth.login_redirect)
    app.add_exception_handler(auth.NotPermitted, auth.forbidden)
    app.add_exception_handler(auth.PasswordChangeRequired, auth.password_change_redirect)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)

    # Added last = runs first: the session is decoded before the guard reads it.
    app.add_middleware(SessionGuard, hub=hub, console=console)
    app.add_middleware(SessionCookies, secret_key=hub.secret_key,
                       session_cookie=SESSION_COOKIE, mode=hub.settings.secure_cookies,
                       bind_host=hub.settings.host, trusted=trusted,
                       max_age=hub.settings.session_max_age_hours * 3600)
