"""/docs and /redoc in a real browser with every request off this host refused: both render
the hub's API from its own copies of Swagger UI and ReDoc (what "offline" means to a user).
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from browser_support import SHOTS, Page, expect, serving, sign_in
from console_seed import make_hub

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(make_hub(tmp_path_factory.mktemp("docs-e2e"))) as url:
        yield url


def _offline(page: Page, base: str) -> list[str]:
    """Refuse every request that is not to the hub; return the list of refused URLs."""
    refused: list[str] = []
    host = urlsplit(base).netloc

    def route(r: object) -> None:
        request = r.request  # type: ignore[attr-defined]
        if urlsplit(request.url).scheme in ("data", "blob") \
                or urlsplit(request.url).netloc == host:
            r.continue_()  # type: ignore[attr-defined]
        else:
            refused.append(request.url)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    return refused


def _shot(page: Page, name: str) -> None:
    """The first screen only: the whole pages are tens of thousands of pixels long."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_swagger_ui_and_redoc_render_with_no_outside_request(page: Page, site: str) -> None:
    refused = _offline(page, site)
    sign_in(page, "viewer")
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("orderpilot")
    expect(page.locator(".opblock-summary-description",
                        has_text="Place a canonical order")).to_be_visible()
    expect(page.locator(".swagger-ui .authorize")).to_be_visible()  # a bearer token goes here
    _shot(page, "60-api-docs-swagger")
    page.goto("/redoc")
    expect(page.locator("h1", has_text="orderpilot")).to_be_visible()
    expect(page.locator("h2", has_text="Place a canonical order (idempotent)")).to_be_visible()
    _shot(page, "61-api-docs-redoc")
    assert refused == [], refused
