"""Stateful fuzzing of the API: hypothesis chains requests that feed each other's answers
(place an order -> read it -> report events -> hold -> release; save a rule's draft ->
publish -> pause -> enable), checks the answers against a model of what should be there,
and fails on any 5xx. Schemathesis's link-driven state machine needs OpenAPI links, which the
schema does not declare; these chains are the explicit equivalent. SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from reliability.support.fuzz_data import HOLD_RULE, names, words
from reliability.support.orders import canonical_order

pytestmark = pytest.mark.slow

HOLD_REASONS = ("address_incomplete", "customs_check", "price_error", "payment_review")


@pytest.fixture
def admin(hub: Hub, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as client:
        client.headers["Authorization"] = f"Bearer {tokens['admin']}"
        yield client


def checked(answer: Any, *expected: int) -> Any:
    assert answer.status_code < 500, f"{answer.status_code}: {answer.text[:800]}"
    assert answer.status_code in expected, f"{answer.status_code}: {answer.text[:800]}"
    return answer.json()


def test_chained_requests_agree_with_a_model(admin: TestClient, test_seed: int) -> None:
    serial = itertools.count()

    class Chains(RuleBasedStateMachine):
        orders = Bundle("orders")
        holds = Bundle("holds")
        rules = Bundle("rules")

        def __init__(self) -> None:
            super().__init__()
            self.open_holds: dict[str, set[str]] = {}  # order id -> hold ids still on
            self.status: dict[str, str] = {}

        @rule(target=orders, n=st.integers(0, 10_000), name=names, line1=names)
        def place(self, n: int, name: str, line1: str) -> str:
            body = canonical_order(n, f"CHAIN{next(serial)}")
            body["customer"]["name"], body["shipping_address"]["line1"] = name, line1
            placed = checked(admin.post("/api/v1/orders", json=body), 201)
            self.open_holds[placed["id"]] = {h["id"] for h in placed.get("holds", [])
                                            if h.get("released_at") is None}
            self.status[placed["id"]] = placed["status"]
            return str(placed["id"])

        @rule(order_id=orders)
        def read(self, order_id: str) -> None:
            order = checked(admin.get(f"/api/v1/orders/{order_id}"), 200)
            assert order["id"] == order_id and order["status"] == self.status[order_id]
            on = {h["id"] for h in order["holds"] if h.get("released_at") is None}
            assert on == self.open_holds[order_id], (on, self.open_holds[order_id])
            checked(admin.get(f"/api/v1/orders/{order_id}/events"), 200)

        @rule(order_id=orders, kind=st.sampled_from(["payment.succeeded", "order.cancelled"]))
        def report(self, order_id: str, kind: str) -> None:
            answer = admin.post(f"/api/v1/orders/{order_id}/events", json={
                "type": kind, "source": "shopee", "source_event_id": f"chain-{next(serial)}",
                "occurred_at": "2026-11-26T11:00:00+08:00"})
            body = checked(answer, 200, 201, 202, 409, 422)
            if answer.status_code < 300:
                self.status[order_id] = body["status"]

        @rule(target=holds, order_id=orders, reason=st.sampled_from(HOLD_REASONS), note=words)
        def hold(self, order_id: str, reason: str, note: str) -> tuple[str, str]:
            answer = admin.post(f"/api/v1/orders/{order_id}/holds",
                                json={"reason": reason, "note": note})
            held = checked(answer, 201, 409)
            if answer.status_code == 409:  # e.g. the same reason already holds it
                return order_id, ""
            self.open_holds[order_id].add(held["id"])
            return order_id, str(held["id"])

        @rule(pair=consumes(holds), note=words)
        def release(self, pair: tuple[str, str], note: str) -> None:
            order_id, hold_id = pair
            if not hold_id:
                return
            released = checked(admin.request(
                "DELETE", f"/api/v1/orders/{order_id}/holds/{hold_id}", json={"note": note}),
                200)
            assert released["id"] == hold_id and released["released_at"]
            self.open_holds[order_id].discard(hold_id)

        @rule(target=rules, name=names)
        def save_rule(self, name: str) -> str:
            made = checked(admin.post("/api/v1/rules", json={
                "definition": {**HOLD_RULE, "name": name}}), 200, 201)
            return str(made["id"])

        @rule(rule_id=rules, name=names)
        def draft_and_publish(self, rule_id: str, name: str) -> None:
            before = checked(admin.get(f"/api/v1/rules/{rule_id}"), 200)
            drafted = checked(admin.put(f"/api/v1/rules/{rule_id}/draft",
                                        json={**HOLD_RULE, "name": name}), 200)
            assert drafted["draft"] is not None
            answer = admin.post(f"/api/v1/rules/{rule_id}/publish", json={"reason": name})
            published = checked(answer, 200, 409)
            if answer.status_code == 409:  # the draft equals the published version, or
                # another published rule does the same (rule_overlap)
                assert published["error"]["code"], published
                return
            assert len(published["versions"]) == len(before["versions"]) + 1, published
            assert published["definition"]["name"] == drafted["draft"]["name"]

        @rule(rule_id=rules, action=st.sampled_from(["pause", "enable"]))
        def switch(self, rule_id: str, action: str) -> None:
            answer = admin.post(f"/api/v1/rules/{rule_id}/{action}")
            checked(answer, 200, 409)

        @invariant()
        def listing_answers(self) -> None:
            checked(admin.get("/api/v1/orders", params={"limit": 5}), 200)

    seed(test_seed)(Chains)  # run_state_machine_as_test reads the seed off the class
    run_state_machine_as_test(Chains, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
