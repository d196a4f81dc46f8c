"""The console's orders list for daily work: filters, buyer search and who may use it, the
total count, saved views per person, bulk actions with a confirmation that counts, the export,
notes and release reasons on the order page."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from orderpilot.adapters import tables as t
from orderpilot.entrypoints.api.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, Seeded, make_hub, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
ROW = re.compile(r'name="order_ids" value="[^"]+" aria-label="([^"]+)"')


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Seeded]:
    hub = make_hub(tmp_path)
    yield seed(hub)
    hub.close()


@pytest.fixture
def client(data: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(data.hub), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    found = CSRF.search(client.get("/console/login").text)
    assert found
    response = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert response.status_code == 303, response.text
    again = CSRF.search(client.get("/console").text)
    assert again
    return again.group(1)


def rows(page: str) -> list[str]:
    return ROW.findall(page)


def active_holds(data: Seeded) -> list[Any]:
    with data.hub.db.read() as conn:
        return list(conn.execute(sa.select(t.holds).where(t.holds.c.released_at.is_(None))))


def test_filters_search_and_count(client: TestClient, data: Seeded) -> None:
    sign_in(client, "ops")
    page = client.get("/console/orders", params={"channel": "shopee"}).text
    assert rows(page) == ["SP2611260001", "SP2611220006"] and "共 2 个订单" in page
    assert rows(client.get("/console/orders", params={"sku": "SKU-MILK-01",
                                                      "tag": "vip"}).text) == [
        "SP2611260001", "TM2611230005", "JD2611210007"]
    assert rows(client.get("/console/orders", params={"reason": "customs_check"}).text) == [
        "YZ2611240004"]
    assert rows(client.get("/console/orders", params={"phone": "0000"}).text) == [
        "SP2611260001"]
    assert rows(client.get("/console/orders", params={"address": "张江"}).text) == [
        "TM2611230005"]
    cheap = client.get("/console/orders", params={"currency": "CNY", "max_total": "100"}).text
    assert rows(cheap) == ["SP2611220006"]
    no_currency = client.get("/console/orders", params={"min_total": "100"})
    assert no_currency.status_code == 422 and "金额范围需要指定币种" in no_currency.text
    partial = client.get("/console/orders", params={"channel": "jd"},
                         headers={**HTMX, "HX-Target": "results"})
    assert "<html" not in partial.text and rows(partial.text) == ["JD2611210007"]


def test_buyer_search_is_refused_to_a_viewer(client: TestClient, data: Seeded) -> None:
    sign_in(client, "viewer")
    page = client.get("/console/orders").text
    assert 'name="phone"' not in page and 'name="address"' not in page
    refused = client.get("/console/orders", params={"phone": "0000"})
    assert refused.status_code == 403 and "不能按买家手机号或地址搜索" in refused.text
    assert rows(refused.text) == []
    assert "138****0000" in client.get("/console/orders").text  # and the list is masked


def test_saved_views_belong_to_one_person(client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    saved = client.post("/console/orders/views", data={
        "name": "Shopee 冻结", "query": "channel=shopee&held=yes&sort=newest",
        "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == \
        "/console/orders?channel=shopee&held=yes"
    page = client.get("/console/orders").text
    assert "Shopee 冻结" in page and 'href="/console/orders?channel=shopee&amp;held=yes"' in page
    bad = client.post("/console/orders/views", data={"name": "x", "query": "phone=12",
                                                     "csrf_token": csrf})
    assert bad.status_code == 422
    for name, query in ((" ", ""), ("a\x00b", ""), ("ok", "q=a%00b")):
        refused = client.post("/console/orders/views", data={"name": name, "query": query,
                                                             "csrf_token": csrf})
        assert refused.status_code == 422, (name, query)
    with data.hub.db.read() as conn:
        [view_id] = conn.execute(sa.select(t.saved_views.c.id)).scalars().all()
    client.post("/console/logout", data={"csrf_token": csrf})
    csrf = sign_in(client, "admin")
    assert "Shopee 冻结" not in client.get("/console/orders").text
    refused = client.post(f"/console/orders/views/{view_id}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 404
    client.post("/console/logout", data={"csrf_token": csrf})
    csrf = sign_in(client, "ops")
    deleted = client.post(f"/console/orders/views/{view_id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and "Shopee 冻结" not in client.get("/console/orders").text


def test_bulk_release_on_the_whole_filter_says_how_many_first(client: TestClient,
                                                             data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    form = {"action": "release_holds", "scope": "filter", "filter": "held=yes",
            "reason": "verified_with_buyer", "note": "电话确认", "csrf_token": csrf}
    before = active_holds(data)
    assert len(before) == 4  # on three orders
    asked = client.post("/console/orders/bulk", data=form)
    assert asked.status_code == 200 and "将释放 3 个订单的冻结" in asked.text
    assert active_holds(data) == before  # nothing happened yet
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    english = client.post("/console/orders/bulk", data=form).text
    assert "This will release the holds of 3 orders." in english and "Verified with" in english
    client.post("/console/locale", data={"locale": "zh_CN", "csrf_token": csrf})
    stale = client.post("/console/orders/bulk", data={**form, "confirm": "yes",
                                                      "expected": "2"})
    assert "列表在您查看后发生了变化" in stale.text and "将释放 3 个订单的冻结" in stale.text
    assert active_holds(data) == before
    nul = client.post("/console/orders/bulk", data={**form, "filter": "q=a%00b"})
    assert nul.status_code == 422 and active_holds(data) == before
    no_reason = client.post("/console/orders/bulk", data={**form, "reason": ""})
    assert no_reason.status_code == 422 and "请选择释放冻结的原因" in no_reason.text
    done = client.post("/console/orders/bulk", data={**form, "confirm": "yes", "expected": "3"})
    assert done.status_code == 200 and "已释放 3 个订单的冻结" in done.text
    assert active_holds(data) == []
    with data.hub.db.read() as conn:
        reasons = set(conn.execute(sa.select(t.holds.c.release_reason, t.holds.c.release_note,
                                             t.holds.c.released_by)
                                   .where(t.holds.c.id.in_([h.id for h in before]))))
    assert reasons == {("verified_with_buyer", "电话确认", "ops")}


def test_bulk_tag_on_ticked_orders_and_who_may(client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    chosen = [data.orders["OS2611250003"], data.orders["LZ2611250002"]]
    form = {"action": "add_tag", "scope": "selected", "order_ids": chosen, "tag": "回访",
            "csrf_token": csrf}
    asked = client.post("/console/orders/bulk", data=form)
    assert "将为 2 个订单添加标签“回访”" in asked.text
    assert len(re.findall(r'name="order_ids" value=', asked.text)) == 2
    done = client.post("/console/orders/bulk", data={**form, "confirm": "yes",
                                                     "expected": "2"})
    assert "已为 2 个订单添加标签" in done.text
    assert rows(client.get("/console/orders", params={"tag": "回访"}).text) == [
        "LZ2611250002", "OS2611250003"]
    timeline = client.get(f"/console/orders/{chosen[0]}").text
    assert "订单打标" in timeline and "+ 回访" in timeline
    nothing = client.post("/console/orders/bulk", data={**form, "order_ids": []})
    assert nothing.status_code == 422
    client.post("/console/logout", data={"csrf_token": csrf})
    csrf = sign_in(client, "finance")
    page = client.get("/console/orders").text
    assert 'value="export"' in page and 'value="release_holds"' not in page
    refused = client.post("/console/orders/bulk", data={**form, "csrf_token": csrf})
    assert refused.status_code == 403
    client.post("/console/logout", data={"csrf_token": csrf})
    sign_in(client, "viewer")
    assert "批量操作" not in client.get("/console/orders").text


def test_export_of_the_filter_is_masked_and_formula_safe(client: TestClient,
                                                          data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    chosen = [data.orders["SP2611220006"]]
    tag = {"action": "add_tag", "scope": "selected", "order_ids": chosen,
           "tag": "=HYPERLINK(\"http://x\")", "csrf_token": csrf, "confirm": "yes",
           "expected": "1"}
    assert client.post("/console/orders/bulk", data=tag).status_code == 200
    client.post("/console/logout", data={"csrf_token": csrf})
    csrf = sign_in(client, "finance")
    form = {"action": "export", "scope": "filter", "filter": "channel=shopee",
            "csrf_token": csrf}
    asked = client.post("/console/orders/bulk", data=form)
    assert "将导出 2 个订单到 Excel" in asked.text
    sheet = client.post("/console/orders/bulk", data={**form, "confirm": "yes",
                                                      "expected": "2"})
    assert sheet.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(BytesIO(sheet.content))
    values = [list(r) for r in book.active.iter_rows(min_row=2, values_only=True)]
    assert [r[3] for r in values] == ["SP2611260001", "SP2611220006"]
    first = values[0]
    assert first[8] == "王*" and first[9] == "138****0000"
    assert "港东大道8号" not in first[10] and first[10].startswith("浙江省 宁波市")
    assert "SKU-MILK-01×2" in first[11]
    assert first[13] == "vip"
    assert values[1][13] == "'=HYPERLINK(\"http://x\")"  # text, never a formula


def test_notes_and_release_reason_on_the_order_page(client: TestClient, data: Seeded) -> None:
    csrf = sign_in(client, "ops")
    order_id = data.orders["SP2611260001"]
    added = client.post(f"/console/orders/{order_id}/notes", data={"text": "买家说周五在家"},
                        headers={**HTMX, "X-CSRF-Token": csrf})
    assert added.status_code == 200 and "<html" not in added.text
    assert 'id="notes"' in added.text and "买家说周五在家" in added.text
    assert "备注已添加" in added.text and 'id="timeline"' in added.text
    empty = client.post(f"/console/orders/{order_id}/notes", data={"text": " "},
                        headers={**HTMX, "X-CSRF-Token": csrf})
    assert empty.status_code == 422 and "请填写备注内容" in empty.text
    page = client.get(f"/console/orders/{order_id}").text
    assert "已添加备注" in page and "买家说周五在家" in page
    [hold] = [h for h in active_holds(data) if h.order_id == order_id]
    url = f"/console/orders/{order_id}/holds/{hold.id}/release"
    no_reason = client.post(url, data={}, headers={**HTMX, "X-CSRF-Token": csrf})
    assert no_reason.status_code == 422 and "请选择释放冻结的原因" in no_reason.text
    other = client.post(url, data={"reason": "other"}, headers={**HTMX, "X-CSRF-Token": csrf})
    assert other.status_code == 422 and "原因为“其他”时请填写说明" in other.text
    done = client.post(url, data={"reason": "address_fixed", "note": "门牌号已补"},
                       headers={**HTMX, "X-CSRF-Token": csrf})
    assert done.status_code == 200 and "地址已修正" in done.text and "门牌号已补" in done.text
    client.post("/console/logout", data={"csrf_token": csrf})
    csrf = sign_in(client, "viewer")
    page = client.get(f"/console/orders/{order_id}").text
    assert "买家说周五在家" in page and 'name="text"' not in page
    refused = client.post(f"/console/orders/{order_id}/notes", data={"text": "x",
                                                                    "csrf_token": csrf})
    assert refused.status_code == 403
