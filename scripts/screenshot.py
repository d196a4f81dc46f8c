"""Make docs/screenshot.png, the README's picture, from the console as it is today.

Starts `orderpilot demo` in a scratch data directory (orders stream in at ten times the normal
pace, so within a minute some have been delivered), signs in as the demo's admin (who sees the
whole menu) in Chromium, opens a delivered order and saves the top of its page: the menu, the
order and the start of its lifecycle timeline. Everything it started is stopped at the end.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png] [--wait 45]

Needs Chromium (scripts/ensure_chromium.py installs it) and Playwright (the test extras).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("ORDERPILOT_TEST_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1440, "height": 1400}  # down to the first steps of the timeline


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, demo: subprocess.Popen[bytes], within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise SystemExit(f"the demo exited with {demo.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the demo did not answer at {url} within {within:.0f} s")


def admin_password(data_dir: Path) -> str:
    for line in (data_dir / "demo-credentials.txt").read_text(encoding="utf-8").splitlines():
        name, _, password = line.partition("\t")
        if name == "admin" and password:
            return password
    raise SystemExit("the demo wrote no admin login")


def shoot(url: str, password: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(base_url=url, viewport=VIEWPORT, locale="zh-CN",
                                   device_scale_factor=1).new_page()
        page.goto("/console/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]:not([data-testid])")  # not the language switch
        page.wait_for_selector("nav.nav")
        # The longest story there is, from a shop whose buyers' names arrive as plain text
        # (the mini-program's come encrypted).
        for channel, status in (("shopify", "delivered"), ("shopee", "delivered"),
                                ("shopify", "shipped"), ("shopee", "shipped"),
                                ("lazada", "shipped"), ("", "")):
            page.goto(f"/console/orders?channel={channel}&status={status}")
            link = page.locator("a[href*='/console/orders/']").first
            if link.count():
                break
        else:
            raise SystemExit("no order to show yet: try a longer --wait")
        link.click()
        page.wait_for_selector(".timeline")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--wait", type=float, default=45,
                        help="seconds of streamed orders before the picture")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="orderpilot-screenshot-") as scratch:
        data_dir = Path(scratch) / "demo"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERPILOT_")}
        env["ORDERPILOT_LOG_LEVEL"] = "WARNING"
        demo = subprocess.Popen(
            [sys.executable, "-m", "orderpilot", "--data-dir", str(data_dir), "demo",
             "--port", str(port), "--rate", "4", "--speed", "10"],
            cwd=scratch, env=env, start_new_session=True)
        try:
            wait_until_up(url, demo)
            time.sleep(args.wait)
            shoot(url, admin_password(data_dir), args.out)
        finally:
            if demo.poll() is None:
                os.killpg(demo.pid, signal.SIGINT)
                try:
                    demo.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(demo.pid, signal.SIGKILL)
                    demo.wait(timeout=10)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
