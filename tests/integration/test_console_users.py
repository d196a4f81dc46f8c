"""The console's users page and audit trail page (issue 14, items 4 and 5), on both databases:
an administrator creates a user (a one-time password shown once), changes the role, resets
the password, deactivates the user (their session ends), is refused removing the last active
administrator in both languages; the audit page lists each change, filters and exports, and
other roles are kept out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services import accounts

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'data-testid="one-time-secret">([^<]+)<')
PASSWORD = "first-password"


@pytest.fixture
def app(hub: Hub) -> Iterator[Any]:
    with hub.db.write() as conn:
        for name, role in (("zhou", "admin"), ("wang", "ops"), ("cang", "warehouse")):
            accounts.create_user(AccountRepository(conn), name, PASSWORD, role, hub.clock)
    yield create_app(hub)


def signed_in(app: Any, username: str, password: str = PASSWORD,
              locale: str | None = "zh_CN") -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = CSRF.search(client.get("/console/login").text)
    assert token
    answer = client.post("/console/login", data={
        "username": username, "password": password, "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.text
    if locale:
        client.post("/console/locale", data={"locale": locale, "csrf_token": csrf(client)})
    return client


def csrf(client: TestClient, path: str = "/console") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, path
    return found.group(1)


def post(client: TestClient, path: str, **form: str) -> Any:
    return client.post(path, data={**form, "csrf_token": csrf(client)})


def test_an_admin_manages_a_user_and_the_audit_page_lists_it(app: Any, hub: Hub) -> None:
    admin = signed_in(app, "zhou")
    page = admin.get("/console/users")
    assert page.status_code == 200 and "用户与令牌" in page.text
    made = post(admin, "/console/users", username="li.ops", display_name="李运营", role="ops")
    assert made.status_code == 200, made.text
    first = SECRET.search(made.text)
    assert first and "用户已创建" in made.text
    newcomer = signed_in(app, "li.ops", first.group(1), locale=None)
    assert newcomer.get("/console").headers["location"] == "/console/account/password"
    assert post(admin, "/console/users/li.ops/role", role="finance").status_code == 200
    reset = post(admin, "/console/users/li.ops/password")
    second = SECRET.search(reset.text)
    assert second and second.group(1) != first.group(1)
    worker = signed_in(app, "wang")
    assert worker.get("/console").status_code == 200
    off = post(admin, "/console/users/wang/state", disabled="1")
    assert off.status_code == 200 and "用户已停用" in off.text
    assert worker.get("/console").status_code == 303  # their session ended
    with hub.db.read() as conn:
        rows = list(conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.seq)))
    assert [(r.action, r.actor, r.via) for r in rows] == [
        ("user.create", "zhou", "console"), ("user.role_change", "zhou", "console"),
        ("user.password_reset", "zhou", "console"), ("user.disable", "zhou", "console")]
    assert first.group(1) not in repr([tuple(r) for r in rows])
    trail = admin.get("/console/audit-log")
    assert trail.status_code == 200
    for shown in ("创建用户", "更改角色", "重置密码", "停用用户", "操作审计",
                  "<code>ops</code> → <code>finance</code>"):
        assert shown in trail.text, shown
    only = admin.get("/console/audit-log", params={"action": "user.role_change"})
    assert only.text.count('data-testid="audit-row"') == 1
    sheet = admin.get("/console/audit-log/export.xlsx", params={"actor": "zhou"})
    rows_out = list(load_workbook(BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert [r[5] for r in rows_out[1:]] == ["user.disable", "user.password_reset",
                                            "user.role_change", "user.create"]
    assert admin.get("/console/audit-log", params={"since": "昨天"}).status_code == 422


@pytest.mark.parametrize("locale, says", [("zh_CN", "最后一个启用的管理员"),
                                          ("en", "last active administrator")])
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app: Any, hub: Hub,
                                                                locale: str,
                                                                says: str) -> None:
    admin = signed_in(app, "zhou", locale=locale)
    for path, form in (("/console/users/zhou/role", {"role": "ops"}),
                       ("/console/users/zhou/state", {"disabled": "1"})):
        refused = post(admin, path, **form)
        assert refused.status_code == 409 and says in refused.text
    with hub.db.read() as conn:
        assert AccountRepository(conn).active_admin_ids() != []
        assert conn.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar() == 0


def test_tokens_are_shown_once_and_revoked_from_the_page(app: Any) -> None:
    admin = signed_in(app, "zhou")
    made = post(admin, "/console/tokens", name="erp-sync", role="viewer")
    token = SECRET.search(made.text)
    assert token and token.group(1).startswith("opk_")
    api = TestClient(app)
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert api.get("/api/v1/orders", headers=bearer).status_code == 200
    token_id = re.search(r'/console/tokens/([0-9a-f-]+)/revoke', made.text)
    assert token_id and token.group(1) not in admin.get("/console/users").text
    assert post(admin, f"/console/tokens/{token_id.group(1)}/revoke").status_code == 200
    assert api.get("/api/v1/orders", headers=bearer).status_code == 401


def test_only_admins_manage_users_and_warehouse_staff_do_not_read_the_trail(app: Any) -> None:
    ops = signed_in(app, "wang")
    assert ops.get("/console/users").status_code == 403
    assert post(ops, "/console/users", username="x.y", role="admin").status_code == 403
    assert ops.get("/console/audit-log").status_code == 200
    assert 'href="/console/audit-log"' in ops.get("/console").text
    warehouse = signed_in(app, "cang")
    assert warehouse.get("/console/audit-log").status_code == 403
    assert 'href="/console/audit-log"' not in warehouse.get("/console").text
