"""The workbench in the console (TestClient): groups, filters, the bulk bar's confirmation with
the order count, assignment and comments on an exception's page, both languages."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderpilot.entrypoints.api.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, Seeded, make_hub, seed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW = re.compile(r'data-testid="exception-row" data-id="([^"]+)"')


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    hub = make_hub(tmp_path_factory.mktemp("workbench"))
    yield seed(hub)
    hub.close()


@pytest.fixture
def client(data: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(data.hub), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    found = CSRF.search(client.get("/console/login").text)
    assert found
    answer = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text
    again = CSRF.search(client.get("/console").text)
    assert again
    return again.group(1)


def test_groups_filters_and_saved_filters(client: TestClient) -> None:
    sign_in(client, "ops")
    page = client.get("/console/exceptions")
    assert page.status_code == 200, page.text
    assert "异常工作台" in page.text and "导出待发货异常订单" in page.text
    assert len(ROW.findall(page.text)) == 4
    assert re.findall(r'data-testid="group" data-reason="([^"]+)"', page.text) == [
        "address_incomplete", "customer_request", "customs_check", "qualification_pending"]
    assert "资质待核验" in page.text
    only = client.get("/console/exceptions", params={"reason": "qualification_pending"})
    assert len(ROW.findall(only.text)) == 1
    assert client.get("/console/exceptions", params={"mine": "yes"}).text.count(
        'data-testid="exception-row"') == 0
    bad = client.get("/console/exceptions", params={"status": "nope"})
    assert bad.status_code == 422 and len(ROW.findall(bad.text)) == 4


def test_a_person_saves_opens_and_deletes_their_own_filters(client: TestClient) -> None:
    csrf = sign_in(client, "ops")
    saved = client.post("/console/exceptions/views", data={
        "csrf_token": csrf, "name": "海关与资质", "query": "owner=ops&reason=customs_check&x=1"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/exceptions?reason=customs_check&owner=ops"
    page = client.get(saved.headers["location"]).text
    mine = re.findall(r'data-testid="my-view">\s*<a class="button( primary)?" href="([^"]+)">'
                      r'([^<]+)</a>', page)
    assert mine == [(" primary", "/console/exceptions?reason=customs_check&amp;owner=ops",
                     "海关与资质")]
    assert len(ROW.findall(page)) == 1
    # Saving under the same name replaces it; the orders list's views are another page's.
    client.post("/console/exceptions/views", data={"csrf_token": csrf, "name": "海关与资质",
                                                   "query": "overdue=yes"})
    page = client.get("/console/exceptions").text
    assert page.count('data-testid="my-view"') == 1 and "overdue=yes" in page
    assert "海关与资质" not in client.get("/console/orders").text
    bad = client.post("/console/exceptions/views", data={"csrf_token": csrf, "name": " ",
                                                         "query": ""})
    assert bad.status_code == 422
    wrong = client.post("/console/exceptions/views", data={"csrf_token": csrf, "name": "x",
                                                           "query": "status=nope"})
    assert wrong.status_code == 422
    view_id = re.search(r'/console/exceptions/views/([^/]+)/delete', page)
    assert view_id is not None
    # Someone else cannot delete it.
    other = TestClient(client.app, follow_redirects=False)
    other_csrf = sign_in(other, "admin")
    assert other.post(f"/console/exceptions/views/{view_id.group(1)}/delete",
                      data={"csrf_token": other_csrf}).status_code == 404
    gone = client.post(f"/console/exceptions/views/{view_id.group(1)}/delete",
                       data={"csrf_token": csrf})
    assert gone.status_code == 303
    assert 'data-testid="my-view"' not in client.get("/console/exceptions").text


def test_bulk_release_confirms_the_order_count_then_releases(client: TestClient) -> None:
    csrf = sign_in(client, "ops")
    page = client.get("/console/exceptions", params={"reason": "customs_check"}).text
    ids = ROW.findall(page)
    assert len(ids) == 1
    preview = client.post("/console/exceptions/bulk", data={
        "csrf_token": csrf, "ids": ids, "action": "release", "reason": "qualification_passed",
        "query": "reason=customs_check"})
    assert preview.status_code == 200, preview.text
    assert re.search(r'data-testid="bulk-count">此操作涉及 1 个订单（1 个异常）', preview.text)
    token = re.search(r'name="token" value="([^"]+)"', preview.text)
    assert token
    applied = client.post("/console/exceptions/bulk/apply", data={
        "csrf_token": csrf, "ids": ids, "action": "release", "token": token.group(1),
        "reason": "qualification_passed", "query": ""})
    assert applied.status_code == 200, applied.text
    assert 'data-testid="notice"' in applied.text
    again = client.post("/console/exceptions/bulk/apply", data={
        "csrf_token": csrf, "ids": ids, "action": "release", "token": token.group(1),
        "reason": "qualification_passed", "query": ""})
    assert again.status_code == 409


def test_assign_comment_and_history_on_the_exception_page(client: TestClient) -> None:
    csrf = sign_in(client, "ops")
    exception_id = ROW.findall(client.get(
        "/console/exceptions", params={"reason": "address_incomplete"}).text)[0]
    url = f"/console/exceptions/{exception_id}"
    assert client.post(f"{url}/assign", data={"csrf_token": csrf, "me": "yes"}
                       ).status_code == 303
    assert client.post(f"{url}/comments", data={"csrf_token": csrf, "text": "已电话联系买家"}
                       ).status_code == 303
    page = client.get(url).text
    assert 'data-testid="assignee">ops<' in page
    assert "已电话联系买家" in page
    assert page.count('data-testid="history-entry"') == 3
    assert client.get("/console/exceptions", params={"mine": "yes"}).text.count(
        'data-testid="exception-row"') == 1
    empty = client.post(f"{url}/comments", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 422


def test_a_viewer_reads_but_cannot_act(client: TestClient) -> None:
    csrf = sign_in(client, "viewer")
    page = client.get("/console/exceptions").text
    assert 'data-testid="bulk-bar"' not in page
    exception_id = ROW.findall(page)[0]
    assert client.post(f"/console/exceptions/{exception_id}/resolve",
                       data={"csrf_token": csrf}).status_code == 403
