"""Fuzzing the HTTP API in-process: whatever a client sends, the answer is never a 5xx.

Runs on SQLite and on PostgreSQL (the shared ``hub`` fixture), where text with NUL characters is
refused by the database itself: a classic source of 500s.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from reliability.support.orders import canonical_order

pytestmark = pytest.mark.slow


@pytest.fixture
def app(hub: Hub) -> FastAPI:
    return create_app(hub)


def test_no_generated_request_gets_a_server_error(app: FastAPI, tokens: dict[str, str]) -> None:
    """Valid and invalid requests to every operation of the OpenAPI schema, as an admin.

    The operations are driven one by one from here rather than with ``schema.parametrize()``,
    whose lazy fixture loading does not work on pytest 9; every failing operation is reported.
    """
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    failures: dict[str, Exception] = {}
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures["an operation schemathesis cannot use"] = result.err()
            continue
        operation = result.ok()
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @settings(max_examples=60, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=cases)
        def call(case: Any) -> None:
            case.call_and_validate(headers=admin, checks=[not_a_server_error])

        try:
            call()
        except Exception as failure:  # noqa: BLE001 - gather them all, then fail once
            failures[operation.label] = failure
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())


def with_nul(text: str) -> str:
    middle = len(text) // 2
    return f"{text[:middle]}\x00{text[middle:]}"


any_text = st.text(max_size=80)  # every code point but surrogates, NUL and controls included
texts = st.one_of(any_text, any_text.map(with_nul))
money = st.one_of(
    st.decimals(min_value=0, max_value=5000, places=2).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),  # many decimals, huge, negative
    st.floats(),  # money as a float, NaN and infinities included
    st.integers(min_value=-10**30, max_value=10**30),
    st.sampled_from(["NaN", "-Infinity", "1e400", "-0.00", " 12.30 ", "12,30", "", "0x10"]),
)
quantities = st.one_of(st.integers(1, 5), st.integers(), st.integers(min_value=2**63),
                       st.floats(), st.booleans(), st.text(max_size=4))
placed_at = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # naive: no offset
    st.text(max_size=30),
)


def consistent_total(body: dict[str, Any]) -> str | None:
    """The total that matches the lines, when the lines are numbers at all."""
    try:
        amount = sum((Decimal(ln["quantity"]) * Decimal(ln["unit_price"]) -
                      Decimal(ln.get("discount", "0")) for ln in body["lines"]), Decimal(0))
        return str(amount + Decimal(body.get("shipping_fee", "0")))
    except (InvalidOperation, TypeError, ValueError, KeyError, AttributeError):
        return None


@st.composite
def mostly_valid_orders(draw: st.DrawFn) -> dict[str, Any]:
    """A valid order with some of its fields, sometimes none, replaced by hostile values."""
    body = canonical_order(draw(st.integers(0, 10_000)), "FUZZ")
    mutations: dict[str, Any] = {
        "customer.name": texts, "customer.phone": texts, "shipping_address.line1": texts,
        "shipping_address.city": texts, "shipping_address.country": texts, "channel": texts,
        "external_id": texts, "lines.0.name": texts, "lines.0.sku": texts, "tags.0": texts,
        "lines.0.quantity": quantities, "lines.0.unit_price": money, "lines.0.discount": money,
        "shipping_fee": money, "placed_at": placed_at, "currency": texts,
    }
    for path in draw(st.lists(st.sampled_from(sorted(mutations)), max_size=3, unique=True)):
        *parents, leaf = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(leaf) if leaf.isdigit() else leaf] = draw(mutations[path])
    if draw(st.integers(0, 9)) == 0:
        body["lines"] = body["lines"] * draw(st.integers(0, 3))
    if draw(st.integers(0, 9)) == 0:
        place = draw(st.sampled_from([body, body["customer"], body["shipping_address"]]))
        place[draw(texts)] = draw(texts)  # a field the schema does not know
    total = consistent_total(body)
    body["total"] = total if total is not None and draw(st.integers(0, 4)) else draw(money)
    return body


def order_count(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar_one())


@pytest.fixture
def client(app: FastAPI, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {tokens['ops']}"
        yield client


def test_posted_orders_get_a_2xx_or_a_clear_4xx(hub: Hub, client: TestClient) -> None:
    statuses: Counter[int] = Counter()
    keys = itertools.count()

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=mostly_valid_orders(), with_key=st.booleans())
    def post(body: dict[str, Any], with_key: bool) -> None:
        before = order_count(hub)
        headers = {"Content-Type": "application/json"}
        if with_key:
            headers["Idempotency-Key"] = f"fuzz-{next(keys)}"
        answer = client.post("/api/v1/orders", headers=headers,
                             content=json.dumps(body, ensure_ascii=False).encode())
        statuses[answer.status_code] += 1
        assert 200 <= answer.status_code < 500, answer.text[:500]
        after = order_count(hub)
        if answer.status_code >= 400:
            error = answer.json()["error"]
            assert isinstance(error["code"], str) and error["code"], error
            assert isinstance(error["message"], str) and error["message"], error
            assert error["field"] is None or isinstance(error["field"], str), error
            assert after == before, f"a {answer.status_code} answer still stored an order"
        else:
            assert answer.json()["id"]
            assert after == before + (answer.status_code == 201)

    post()
    assert statuses[201] > 0, f"no generated order was accepted: {dict(statuses)}"
    assert sum(n for status, n in statuses.items() if status >= 400) > 0, dict(statuses)


def test_any_cursor_gets_a_page_or_a_clear_4xx(client: TestClient) -> None:
    """Cursors are opaque to clients, but a client can still send any string back."""
    def cursor_for(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    cursors = st.one_of(st.integers().map(lambda seq: cursor_for(f"o:{seq}")),
                        st.text(max_size=40).map(cursor_for), st.text(max_size=40))

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cursor=cursors)
    def page(cursor: str) -> None:
        answer = client.get("/api/v1/orders", params={"cursor": cursor})
        assert answer.status_code in (200, 422), f"cursor {cursor!r}: {answer.text[:300]}"

    page()
