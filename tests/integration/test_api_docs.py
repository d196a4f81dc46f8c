"""/docs and /redoc work offline (the hub's own copies of Swagger UI and ReDoc) and, like the
OpenAPI schema they read, are for signed-in callers only."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.api.docs import ASSETS_DIR
from orderpilot.services import accounts

LOCAL_REFERENCE = re.compile(r"""(?:src|href|spec-url|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    # Pages and schema only: SQLite is enough.
    hub = bootstrap(Settings(data_dir=tmp_path / "data", _env_file=None),  # type: ignore[call-arg]
                    clock=FakeClock())
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        accounts.create_user(AccountRepository(conn), "wang", "a-password", "viewer", hub.clock)
    yield hub
    hub.close()


@pytest.fixture
def token(hub: Hub) -> str:
    with hub.db.write() as conn:
        return accounts.create_token(AccountRepository(conn), "reader", "viewer", hub.clock)[1]


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def test_strangers_see_neither_the_schema_nor_the_pages(hub: Hub, client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers={"Authorization": "Bearer nope"}).status_code \
        == 401
    for page in ("/docs", "/redoc"):
        answer = client.get(page)  # a browser: sent to sign in, and back
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/login?next={page}"
        assert client.get(page, headers={"Authorization": "Bearer nope"}).status_code == 401
    with TestClient(create_app(hub, with_console=False)) as bare:
        assert bare.get("/docs").status_code == 401


def test_any_token_reads_the_schema_with_its_bearer_scheme(client: TestClient,
                                                           token: str) -> None:
    answer = client.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/orders"]["post"]["security"] == [{"bearer": []}]
    assert schema["paths"]["/hooks/{code}"]["post"]["security"] == []
    assert schema["paths"]["/healthz"]["get"]["security"] == []
    assert not any(path.startswith("/console") for path in schema["paths"])


@pytest.mark.parametrize("page,assets", [
    ("/docs", {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"}),
    ("/redoc", {"/docs-assets/redoc.standalone.js"})])
def test_the_pages_use_only_the_hubs_own_assets(client: TestClient, token: str, page: str,
                                                assets: set[str]) -> None:
    answer = client.get(page, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    html = answer.text
    assert "cdn." not in html and "fonts.googleapis" not in html and "//" not in html.replace(
        "://", "")  # no scheme-relative URLs either
    referenced = set(LOCAL_REFERENCE.findall(html)) - {"data:,"}
    assert referenced >= assets and all(ref.startswith("/") for ref in referenced), referenced
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "http" not in policy
    for asset in assets:  # served, without a token, byte for byte the vendored file
        served = client.get(asset)
        assert served.status_code == 200
        assert served.content == (ASSETS_DIR / asset.rsplit("/", 1)[1]).read_bytes()


def test_the_vendored_assets_match_their_manifest_and_carry_their_licences() -> None:
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text())
    assert set(manifest["files"]) == {"swagger-ui-bundle.js", "swagger-ui.css",
                                      "redoc.standalone.js"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest() == entry["sha256"]
        licence = (ASSETS_DIR / entry["license_file"]).read_text()
        assert {"Apache-2.0": "Apache License", "MIT": "MIT License"}[entry["license"]] in licence


def test_a_console_user_reads_the_docs_after_signing_in(client: TestClient) -> None:
    login = client.get("/console/login?next=/docs")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf and 'value="/docs"' in login.text
    signed_in = client.post("/console/login", data={
        "username": "wang", "password": "a-password", "next": "/docs",
        "csrf_token": csrf.group(1)})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/docs"
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "orderpilot"
