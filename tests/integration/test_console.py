"""The console through FastAPI's TestClient: sign-in, roles, CSRF, holds, languages, export."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from orderpilot.adapters import tables as t
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.console import i18n

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, Seeded, make_hub, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    hub = make_hub(tmp_path_factory.mktemp("console"))
    yield seed(hub)
    hub.close()


@pytest.fixture
def client(data: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(data.hub), follow_redirects=False) as c:
        yield c


def token(client: TestClient, path: str = "/console/login") -> str:
    found = CSRF.search(client.get(path).text)
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    response = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": token(client)})
    assert response.status_code == 303, response.text
    return token(client, "/console")


def holds_of(data: Seeded, order_id: str) -> list[Any]:
    with data.hub.db.read() as conn:
        return list(conn.execute(sa.select(t.holds).where(t.holds.c.order_id == order_id,
                                                          t.holds.c.released_at.is_(None))))


def test_console_pages_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/console", "/console/orders", "/console/exceptions",
                 "/console/exports/pending-shipment-exceptions.xlsx"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
    assert client.get("/").headers["location"] == "/console"
    htmx = client.get("/console/orders", headers=HTMX)  # HTMX follows HX-Redirect instead
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/console/login")


def test_a_wrong_password_is_refused(client: TestClient) -> None:
    response = client.post("/console/login", data={
        "username": "ops", "password": "wrong-password", "csrf_token": token(client)})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert client.get("/console").status_code == 303  # still signed out


def test_sign_in_lands_where_asked_but_only_inside_the_console(client: TestClient) -> None:
    def land(next_path: str) -> str:
        response = client.post("/console/login", data={
            "username": "viewer", "password": PASSWORD, "next": next_path,
            "csrf_token": token(client)})
        client.post("/console/logout", data={"csrf_token": token(client, "/console")})
        return str(response.headers["location"])

    assert land("/console/exceptions") == "/console/exceptions"
    assert land("https://evil.example/console") == "/console"
    assert land("//evil.example/console") == "/console"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        client: TestClient, data: Seeded) -> None:
    sign_in(client, "ops")
    order_id = data.orders["TM2611230005"]
    url = f"/console/orders/{order_id}/holds"
    form = {"reason": "price_error", "note": "forged"}
    assert client.post(url, data=form).status_code == 403
    assert client.post(url, data={**form, "csrf_token": "x" * 43}).status_code == 403
    assert client.post(url, data=form, headers={**HTMX, "X-CSRF-Token": "nope"}).status_code \
        == 403
    # The API does not accept the session cookie as a credential without the token either.
    api = client.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "price_error"})
    assert api.status_code == 403
    assert holds_of(data, order_id) == []


def test_a_viewer_sees_an_order_but_cannot_place_or_release_a_hold(
        client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "viewer")
    order_id = data.orders["SP2611260001"]
    page = client.get(f"/console/orders/{order_id}").text
    assert "地址不完整" in page  # the hold is shown
    assert 'name="reason"' not in page and "/release" not in page  # the buttons are not
    assert "138****0000" in page and "13812340000" not in page  # raw payload masked too
    before = holds_of(data, order_id)
    refused = client.post(f"/console/orders/{order_id}/holds",
                          data={"reason": "price_error", "csrf_token": csrf})
    assert refused.status_code == 403
    release = client.post(f"/console/orders/{order_id}/holds/{before[0].id}/release",
                          data={"csrf_token": csrf}, headers=HTMX)
    assert release.status_code == 403 and release.headers["HX-Retarget"] == "#flash"
    assert holds_of(data, order_id) == before
    assert client.get("/console/system").status_code == 403  # admins only


def test_ops_places_and_releases_a_hold_through_the_console(
        client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    order_id = data.orders["JD2611210007"]
    placed = client.post(f"/console/orders/{order_id}/holds",
                         data={"reason": "out_of_stock", "note": "杭州仓调拨中"},
                         headers={**HTMX, "X-CSRF-Token": csrf})
    assert placed.status_code == 200
    assert "<html" not in placed.text  # a fragment: the holds, the badge and the timeline
    assert 'id="holds"' in placed.text and 'id="held-badge"' in placed.text
    assert "库存不足" in placed.text and "杭州仓调拨中" in placed.text
    [hold] = holds_of(data, order_id)
    assert (hold.reason, hold.placed_by) == ("out_of_stock", "ops")

    released = client.post(f"/console/orders/{order_id}/holds/{hold.id}/release",
                           data={"csrf_token": csrf, "reason": "stock_arrived"})  # plain post
    assert released.status_code == 303
    assert holds_of(data, order_id) == []
    page = client.get(f"/console/orders/{order_id}").text
    timeline = page[page.index('id="timeline"'):]
    assert "订单冻结" in timeline and "解除冻结" in timeline
    assert "hold.placed" not in timeline and "hold.released" not in timeline  # no raw codes


def test_a_bad_hold_request_says_what_is_wrong(client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    order_id = data.orders["TM2611230005"]
    missing = client.post(f"/console/orders/{order_id}/holds", data={"reason": ""},
                          headers={**HTMX, "X-CSRF-Token": csrf})
    assert missing.status_code == 422 and "请选择冻结原因" in missing.text
    bad = client.post(f"/console/orders/{order_id}/holds", data={"reason": "Not A Code"},
                      headers={**HTMX, "X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "reason 应为小写字母、数字和 _ 组成的代码" in bad.text
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    bad = client.post(f"/console/orders/{order_id}/holds", data={"reason": "Not A Code"},
                      headers={**HTMX, "X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "reason must be a code" in bad.text
    client.post("/console/locale", data={"locale": "zh_CN", "csrf_token": csrf})
    long_note = client.post(f"/console/orders/{order_id}/holds",
                            data={"reason": "price_error", "note": "长" * 1001},
                            headers={**HTMX, "X-CSRF-Token": csrf})
    assert long_note.status_code == 422 and "备注不能超过 1000 个字符" in long_note.text
    too_long_search = client.get("/console/orders?q=" + "9" * 101)
    assert too_long_search.status_code == 422
    assert "搜索内容：最多 100 个字符" in too_long_search.text
    assert client.get("/console/orders/no-such-order").status_code == 404
    assert holds_of(data, order_id) == []


def test_the_language_switch_changes_the_page_language(client: TestClient) -> None:
    csrf = sign_in(client, "ops")
    page = client.get("/console/orders").text
    assert 'lang="zh-CN"' in page and "平台订单号" in page and "已下发仓库" in page
    switched = client.post("/console/locale", data={
        "locale": "en", "next": "/console/orders?held=yes", "csrf_token": csrf})
    assert switched.headers["location"] == "/console/orders?held=yes"
    page = client.get("/console/orders").text
    assert 'lang="en"' in page and "External order no." in page and "Released to warehouse" \
        in page
    assert "平台订单号" not in page
    client.post("/console/locale", data={"locale": "zh_CN", "csrf_token": csrf})
    assert "平台订单号" in client.get("/console/orders").text


def test_the_order_list_filters_and_refreshes_only_the_table(
        client: TestClient, data: Seeded) -> None:
    sign_in(client, "ops")
    partial = client.get("/console/orders?held=yes",
                         headers={**HTMX, "HX-Target": "results"}).text
    assert "<html" not in partial and 'id="results"' in partial
    shown = set(re.findall(r"/console/orders/([0-9a-f-]{36})", partial))
    assert shown == data.held_pre_shipment | {data.orders["OS2611250003"]}
    by_phone = client.get("/console/orders?q=13900001111").text
    assert "LZ2611250002" in by_phone and "SP2611260001" not in by_phone


def test_the_orders_list_pages_forward_without_repeats(client: TestClient, data: Seeded,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from orderpilot.entrypoints.console import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 3)
    sign_in(client, "ops")
    seen: list[str] = []
    url: str | None = "/console/orders"
    while url:
        page = client.get(url).text
        seen += re.findall(r'href="/console/orders/([0-9a-f-]{36})"', page)
        found = re.search(r'rel="next" href="([^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(data.orders.values())


def test_the_export_gives_the_same_rows_twice_and_only_held_unshipped_orders(
        client: TestClient, data: Seeded) -> None:
    sign_in(client, "finance")

    def export() -> tuple[list[tuple[Any, ...]], str]:
        response = client.get("/console/exports/pending-shipment-exceptions.xlsx")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        sheet = load_workbook(BytesIO(response.content)).active
        return list(sheet.iter_rows(values_only=True)), response.headers["content-disposition"]

    (first, disposition), (second, _) = export(), export()
    assert first == second
    header, *rows = first
    assert header[:4] == ("序号 / No.", "渠道 / Channel", "店铺 / Shop",
                          "平台订单号 / External order no.")
    assert header[-1] == "订单ID / Order ID"
    assert {row[-1] for row in rows} == data.held_pre_shipment
    assert len(rows) == 3  # one row per hold: the youzan order has two
    assert [row[0] for row in rows] == [1, 2, 3]
    assert all("****" in row[10] for row in rows)  # finance sees masked phones
    assert ("地址不完整", "address_incomplete") in {(row[11], row[12]) for row in rows}
    assert re.search(r'filename="pending-shipment-exceptions-\d{4}-\d{2}-\d{2}\.xlsx"',
                     disposition)
    assert "filename*=UTF-8''" in disposition


def test_a_viewer_may_not_export(client: TestClient) -> None:
    sign_in(client, "viewer")
    assert "导出待发货异常订单" not in client.get("/console/exceptions").text
    assert client.get("/console/exports/pending-shipment-exceptions.xlsx").status_code == 403


def test_the_dashboard_and_the_admin_pages_render(client: TestClient) -> None:
    sign_in(client, "admin")
    dashboard = client.get("/console").text
    assert 'data-chart="channel-days"' in dashboard and "/static/vendor/echarts.min.js" \
        in dashboard
    system = client.get("/console/system").text
    assert "CRM at crm.internal:8443" in system and "LZ2611259999" in system
    assert client.get("/static/console.css").status_code == 200


def test_signing_out_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client, "ops")
    assert client.post("/console/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/console").status_code == 303


def test_every_console_message_has_a_chinese_translation() -> None:
    here = Path(i18n.__file__).parent
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": (2,)}
    found = [m for _, _, m, _, _ in extract_from_dir(
        here, [("**.py", "python"), ("templates/**.html", "jinja2")],
        {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}},
        keywords=keywords)]
    assert len(found) > 100
    zh = i18n.load_translations("zh_CN")
    untranslated = [m for m in found if (zh.gettext(m) if isinstance(m, str)
                                         else zh.ngettext(m[0], m[1], 1)) in (m, m[0])]
    assert untranslated == []


def test_repeated_wrong_passwords_lock_sign_in_for_a_while(client: TestClient) -> None:
    for _ in range(5):
        wrong = client.post("/console/login", data={
            "username": "finance", "password": "guess-guess", "csrf_token": token(client)})
        assert wrong.status_code == 401
    locked = client.post("/console/login", data={
        "username": "finance", "password": PASSWORD, "csrf_token": token(client)})
    assert locked.status_code == 429
    wait = int(locked.headers["retry-after"])
    assert 0 < wait <= 30 and f"登录失败次数过多,请 {wait} 秒后再试" in locked.text
    assert client.get("/console").status_code == 303  # the right password did not get in
