"""The returns console without a browser: who sees which buttons, refused moves, bad filters."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orderpilot.entrypoints.api.app import create_app
from orderpilot.services import returns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, Seeded, make_hub, seed  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seeded, str]]:
    hub = make_hub(tmp_path_factory.mktemp("returns-console"))
    seeded = seed(hub)
    return_id = returns.request_return(returns.RequestReturn(
        seeded.orders["TM2611230005"], [("SKU-MILK-01", 1)], ["wrong_size"], "尺码偏小"),
        hub.uow, hub.clock).ret.id
    yield seeded, return_id
    hub.close()


def signed_in(data: tuple[Seeded, str], login: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(data[0].hub), follow_redirects=False)
    found = CSRF.search(client.get("/console/login").text)
    assert found
    client.post("/console/login", data={"username": login, "password": PASSWORD,
                                        "csrf_token": found.group(1)})
    again = CSRF.search(client.get("/console").text)
    assert again
    return client, again.group(1)


def test_a_viewer_reads_but_gets_no_buttons_and_cannot_move(data: tuple[Seeded, str]) -> None:
    client, csrf = signed_in(data, "viewer")
    board = client.get("/console/returns")
    assert board.status_code == 200 and "尺码不符" in board.text
    page = client.get(f"/console/returns/{data[1]}")
    assert page.status_code == 200 and 'data-testid="move-approved"' not in page.text
    refused = client.post(f"/console/returns/{data[1]}/move",
                          data={"to": "approved", "csrf_token": csrf})
    assert refused.status_code == 403
    client.close()


def test_ops_approve_finance_sees_no_decision_buttons(data: tuple[Seeded, str]) -> None:
    finance, _ = signed_in(data, "finance")
    assert 'data-testid="move-approved"' not in finance.get(
        f"/console/returns/{data[1]}").text
    finance.close()
    client, csrf = signed_in(data, "ops")
    page = client.get(f"/console/returns/{data[1]}").text
    assert 'data-testid="move-approved"' in page and 'data-testid="move-rejected"' in page
    wrong = client.post(f"/console/returns/{data[1]}/move",
                        data={"to": "refunded", "csrf_token": csrf})
    assert wrong.status_code == 403  # ops may not refund
    illegal = client.post(f"/console/returns/{data[1]}/move",
                          data={"to": "received", "csrf_token": csrf})
    assert illegal.status_code == 409 and "不能从已申请变为已收货" in illegal.text
    moved = client.post(f"/console/returns/{data[1]}/move",
                        data={"to": "approved", "note": "同意", "csrf_token": csrf})
    assert moved.status_code == 303
    assert "已同意" in client.get(f"/console/returns/{data[1]}").text
    assert client.get("/console/returns", params={"reason": "nope"}).status_code == 422
    assert client.get("/console/returns/not-a-return").status_code == 404
    client.close()


def test_the_refund_asked_of_a_channel_shows_its_refusal(data: tuple[Seeded, str]) -> None:
    from orderpilot.adapters import tables as t

    seeded, return_id = data
    hub = seeded.hub
    page = f"/console/returns/{return_id}"
    client, csrf = signed_in(data, "finance")
    assert 'data-testid="channel-refund"' not in client.get(page).text
    with hub.uow() as uow:
        uow.channels.add_job(f"refund:{return_id}", "shopee-sg", return_id, "refund", None,
                             hub.clock())
    assert "等待渠道答复" in client.get(page).text
    with hub.db.write() as conn:
        conn.execute(t.channel_jobs.update().where(t.channel_jobs.c.key == f"refund:{return_id}")
                     .values(status="dead", last_error="买家已发起纠纷"))
    shown = client.get(page).text
    assert "渠道拒绝了退款" in shown and "买家已发起纠纷" in shown
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    assert "The channel refused the refund" in client.get(page).text
    client.close()
