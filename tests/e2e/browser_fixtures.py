"""Fixtures of the browser tests (a pytest plugin, registered in tests/conftest.py; not a
conftest of its own, whose module name would clash with tests/conftest.py): one Chromium a
module, a fresh page a test.

Each test module defines `site`, the hub it serves: its URL, or (URL, seeded data). The
browser support is imported inside the fixtures, not here: importing it skips a module when
Chromium is missing, which must skip the test modules, not this plugin.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The test modules import console_seed and browser_support from this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from browser_support import ARGS, CHROMIUM, sync_api

    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, site: str | tuple[str, Any]) -> Iterator[Page]:
    base_url = site if isinstance(site, str) else site[0]
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900},
                                  accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
