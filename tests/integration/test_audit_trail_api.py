"""The audit trail everywhere (issue 14, items 2 and 5): the backstop entry for a change no
service recorded, users and tokens through /api/v1/users (every change recorded, never a
password), the last active administrator kept, and the search with its paging and masking."""

from __future__ import annotations

import threading
from io import BytesIO
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from tests.conftest import order_body

from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.audit import Actor
from orderpilot.domain.errors import Conflict
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.api.deps import CanReadOrders
from orderpilot.services import accounts, audit_trail


def _entries(hub: Hub) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.seq)))


def _as(api: Any, tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_a_change_no_service_recorded_gets_one_request_entry(hub: Hub,
                                                             tokens: dict[str, str]) -> None:
    app = create_app(hub, with_console=False)

    @app.post("/api/v1/orders/{order_id}/nudge")  # a change whose service records nothing
    def nudge(order_id: str, who: CanReadOrders) -> dict[str, str]:
        return {"nudged": order_id}

    @app.post("/api/v1/orders/{order_id}/refuse")
    def refuse(order_id: str, who: CanReadOrders) -> None:
        raise Conflict("no")

    with TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {tokens['ops']}"
        order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
        api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "payment.confirmed", "occurred_at": "2026-11-26T10:05:00+08:00",
            "source": "shopee"})
        assert api.post("/api/v1/orders/bulk/preview", json={
            "action": "add_tag", "tag": "vip", "order_ids": [order_id]}).status_code == 200
        refused = api.post(f"/api/v1/orders/{order_id}/refuse")
        assert refused.status_code == 409, refused.text
        assert _entries(hub) == []  # intake, reports, previews and refusals: nothing
        assert api.post(f"/api/v1/orders/{order_id}/nudge").status_code == 200
    rows = _entries(hub)
    assert [(r.action, r.subject_type, r.order_id, r.actor, r.via) for r in rows] == [
        ("request", "request", order_id, "ops-token", "api")]
    assert rows[0].detail == {"method": "POST", "route": "/api/v1/orders/{order_id}/nudge",
                              "path_params": {"order_id": order_id}, "status": 200}


def test_a_refused_change_and_a_recorded_change_add_no_request_entry(api: Any,
                                                                     hub: Hub) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    assert api.request("DELETE", f"/api/v1/orders/{order_id}/holds/no-such-hold",
                       json={"reason": "false_alarm"}).status_code == 404
    api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "price_error"})
    assert [r.action for r in _entries(hub)] == ["hold.place"]


def test_users_and_tokens_through_the_api_are_recorded_without_secrets(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    admin = _as(api, tokens, "admin")
    assert api.get("/api/v1/users").status_code == 403  # ops may not manage users
    made = api.post("/api/v1/users", headers=admin, json={
        "username": "li.ops", "display_name": "李运营", "role": "ops"})
    assert made.status_code == 201
    first_password = made.json()["password"]
    users = {u["username"]: u for u in api.get("/api/v1/users", headers=admin).json()["items"]}
    assert users["li.ops"]["password_temporary"] is True
    assert api.patch("/api/v1/users/li.ops", headers=admin,
                     json={"role": "finance"}).json()["role"] == "finance"
    reset = api.post("/api/v1/users/li.ops/password-reset", headers=admin).json()["password"]
    assert api.patch("/api/v1/users/li.ops", headers=admin,
                     json={"disabled": True}).json()["disabled"] is True
    token = api.post("/api/v1/tokens", headers=admin, json={"name": "erp", "role": "viewer"})
    token_id, secret = token.json()["id"], token.json()["token"]
    assert api.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 200
    assert api.get("/api/v1/orders", headers={"Authorization": f"Bearer {secret}"}
                   ).status_code == 401
    rows = _entries(hub)
    assert [(r.action, r.before, r.after) for r in rows] == [
        ("user.create", None, {"username": "li.ops", "display_name": "李运营", "role": "ops",
                               "disabled": False}),
        ("user.role_change", {"role": "ops"}, {"role": "finance"}),
        ("user.password_reset", {"password_temporary": True}, {"password_temporary": True}),
        ("user.disable", {"disabled": False}, {"disabled": True}),
        ("token.create", None, {"name": "erp", "role": "viewer", "scopes": []}),
        ("token.revoke", {"name": "erp", "revoked": False}, {"revoked": True})]
    assert {r.actor for r in rows} == {"admin-token"}
    stored = repr([tuple(r) for r in rows])
    for secret_text in (first_password, reset, secret):
        assert secret_text not in stored


def test_the_last_active_administrator_is_kept(api: Any, hub: Hub,
                                               tokens: dict[str, str]) -> None:
    admin = _as(api, tokens, "admin")
    api.post("/api/v1/users", headers=admin, json={"username": "boss", "role": "admin",
                                                   "password": "s3cret-pass"})
    for change in ({"role": "ops"}, {"disabled": True}):
        refused = api.patch("/api/v1/users/boss", headers=admin, json=change)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "last_admin"
        assert "最后一个启用的管理员" in refused.json()["error"]["message_zh"]
    api.post("/api/v1/users", headers=admin, json={"username": "deputy", "role": "admin",
                                                   "password": "s3cret-pass"})
    assert api.patch("/api/v1/users/boss", headers=admin, json={"role": "ops"}
                     ).status_code == 200
    assert api.patch("/api/v1/users/deputy", headers=admin, json={"disabled": True}
                     ).status_code == 409


def test_two_admins_demoting_each_other_at_once_leave_one(hub: Hub) -> None:
    with hub.db.write() as conn:
        for name in ("wang", "zhao"):
            accounts.create_user(AccountRepository(conn), name, "s3cret-pass", "admin",
                                 hub.clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(name: str) -> None:
        barrier.wait()
        try:
            with audit_trail.acting_as(Actor("root", "admin", "cli", "cli")), \
                    hub.db.write() as conn:
                accounts.set_role(AccountRepository(conn), name, "ops", hub.clock)
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(n,)) for n in ("wang", "zhao")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "refused"]
    with hub.db.read() as conn:
        assert AccountRepository(conn).active_admin_ids() != []


def test_the_trail_is_searched_newest_first_paged_exported_and_masked(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    with audit_trail.acting_as(Actor("li.ops", "ops", "user", "console")), hub.uow() as uow:
        for n in range(5):
            audit_trail.record(uow, hub.clock, "order.note", subject_type="order",
                               subject_id=order_id, order_id=order_id,
                               after={"note": f"call 13812345678 #{n}",
                                      "customer": {"name": "张三"}})
    page = api.get("/api/v1/audit-log", params={"order_id": order_id, "limit": 2}).json()
    assert [e["after"]["note"][-2:] for e in page["items"]] == ["#4", "#3"]
    assert page["items"][0]["after"]["customer"]["name"] == "张三"  # ops read personal data
    rest = api.get("/api/v1/audit-log", params={"order_id": order_id, "limit": 10,
                                                "cursor": page["next_cursor"]}).json()
    assert [e["after"]["note"][-2:] for e in rest["items"]] == ["#2", "#1", "#0"]
    assert rest["next_cursor"] is None
    assert api.get("/api/v1/audit-log", params={"actor": "nobody"}).json()["items"] == []
    assert len(api.get("/api/v1/audit-log", params={"q": "order.no"}).json()["items"]) == 5
    finance = api.get("/api/v1/audit-log", headers=_as(api, tokens, "finance")).json()
    assert "13812345678" not in repr(finance) and "张三" not in repr(finance)
    assert api.get("/api/v1/audit-log", headers=_as(api, tokens, "warehouse")
                   ).status_code == 403
    sheet = api.get("/api/v1/audit-log/export.xlsx", headers=_as(api, tokens, "finance"))
    rows = list(load_workbook(BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert len(rows) == 6 and rows[1][5] == "order.note"
    assert "13812345678" not in repr(rows)
    assert api.get("/api/v1/audit-log", params={"since": "yesterday"}).status_code == 422


def test_control_characters_in_the_trail_do_not_break_its_download(api: Any,
                                                                    hub: Hub) -> None:
    """Audited text is whatever a request carried (the fuzz test found a rule name with \x13
    in it); a worksheet cannot hold C0 controls, so they are shown as \\xNN."""
    with audit_trail.acting_as(Actor("li.ops", "ops", "user", "console")), hub.uow() as uow:
        audit_trail.record(uow, hub.clock, "rule.create", subject_type="rule",
                           subject_id="r\x13\x1f", after={"name": "促销\x13规则"})
    sheet = api.get("/api/v1/audit-log/export.xlsx")
    assert sheet.status_code == 200, sheet.text
    cells = [c for row in load_workbook(BytesIO(sheet.content)).active.iter_rows(
        values_only=True) for c in row if isinstance(c, str)]
    assert "r\\x13\\x1f" in cells
    assert any("促销\\u0013规则" in c for c in cells)  # JSON escapes its own


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/tokens"])
def test_only_admins_manage_users(api: Any, path: str) -> None:
    assert api.get(path).status_code == 403
