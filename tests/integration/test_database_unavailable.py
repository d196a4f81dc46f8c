"""The database going away: 503 with Retry-After in the JSON error format (an HTML page on the
console), and the log of it holds neither SQL parameters nor a buyer's phone or address.

SQLite: the driver starts failing under the hub (every statement, then every new connection).
PostgreSQL: the hub's own throwaway database is dropped with its sessions terminated (never a
restart of the shared server)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import order_body
from conftest_pg import drop_pg_database
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token, create_user

PHONE, STREET = "13800000000", "港城大道"


def _fail_while_placing_orders(hub: Hub) -> None:
    """The connection drops while the order's row, with its phone and address, is written."""
    driver_error = hub.db.engine.dialect.dbapi.OperationalError  # type: ignore[union-attr]

    def fail(_cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORDERS"):
            raise driver_error("server closed the connection unexpectedly")

    sa.event.listen(hub.db.engine, "do_execute", fail)


def _take_the_database_away(hub: Hub, database_url: str | None) -> None:
    if database_url:
        drop_pg_database(database_url)
        return

    def fail(*_args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    sa.event.listen(hub.db.engine, "do_execute", fail)  # statements on pooled connections
    sa.event.listen(hub.db.engine, "do_connect", fail)  # and any new connection


def _unavailable(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["error"]["code"] == "database_unavailable"


def test_a_database_that_goes_away_is_a_503_with_retry_after(
        hub: Hub, database_url: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    with hub.db.write() as conn:
        accounts = AccountRepository(conn)
        ops = create_token(accounts, "ops", "ops", hub.clock)[1]
        viewer = create_token(accounts, "viewer", "viewer", hub.clock)[1]
        create_user(accounts, "viewer", "correct-horse-42", "viewer", hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as client:
        as_ops = {"Authorization": f"Bearer {ops}"}
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        placed = client.post("/api/v1/orders", json=order_body("DOWN-1"), headers=as_ops)
        assert placed.status_code == 201
        order_id = placed.json()["id"]
        assert client.get(f"/api/v1/orders/{order_id}", headers=as_viewer).status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text)
        assert csrf
        client.post("/console/login", data={"username": "viewer", "password": "correct-horse-42",
                                            "csrf_token": csrf.group(1)})
        assert client.get("/console/orders").status_code == 200

        _fail_while_placing_orders(hub)
        _unavailable(client.post("/api/v1/orders", json=order_body("DOWN-2"), headers=as_ops))
        _take_the_database_away(hub, database_url)
        _unavailable(client.post("/api/v1/orders", json=order_body("DOWN-3"), headers=as_ops))
        _unavailable(client.get(f"/api/v1/orders/{order_id}", headers=as_viewer))
        _unavailable(client.get("/api/v1/orders", headers=as_viewer))
        page = client.get("/console/orders")
        assert page.status_code == 503 and page.headers["retry-after"] == "5"
        assert "数据库暂时不可用" in page.text
    log = capsys.readouterr()
    written = log.out + log.err
    assert "database_unavailable" in written
    assert PHONE not in written and STREET not in written, written
