"""What the browser tests share: Debian Chromium driven by Playwright against a hub served by
uvicorn on a thread, signing in, and screenshots into test-artifacts/screenshots/.

Importing this module skips the importing test module when Chromium or Playwright is missing
(fails it under CI=true: conftest.missing_service),
so a test module imports it before anything that needs a browser. The `browser` and `page`
fixtures live in conftest.py beside this file.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import missing_service

# Another path only to prove that a missing browser fails CI (reliability/test_ci_services.py).
CHROMIUM = os.environ.get("ORDERPILOT_TEST_CHROMIUM", "/usr/bin/chromium")
if not os.path.exists(CHROMIUM):
    missing_service(f"{CHROMIUM} is missing (CI installs it with apt: "
                    "scripts/ensure_chromium.py)")
try:
    from playwright import sync_api
except ImportError:
    missing_service("Playwright is not installed (pip install -e '.[test]')")

import uvicorn
from console_seed import PASSWORD

from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
Page = sync_api.Page
expect = sync_api.expect
# Assertions wait as long as the pages' actions do (browser_fixtures: 10 s). Playwright's 5 s
# default was too short for ReDoc laying out the whole API on a loaded two-core CI machine.
expect.set_options(timeout=10_000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(hub: Hub) -> Iterator[str]:
    """Serve the hub's app on a free port until the block ends, then stop and close the hub."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start within 20 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, username: str) -> None:
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:not([data-testid])")
    expect(page.locator(".topbar .user")).to_contain_text(username)


def htmx(page: Page, act: Callable[[], None], url_part: str) -> None:
    """Do something that sends an HTMX request to a URL containing `url_part`, and wait until
    its answer is swapped in."""
    with page.expect_response(lambda r: url_part in r.url):
        act()
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling, "
                           ".htmx-swapping')")
