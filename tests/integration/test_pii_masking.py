"""Every API route and every console page, walked as readers without ``pii.read`` (viewer,
finance, warehouse) over seeded data: no answer holds a buyer's unmasked phone (mainland or
international), full name or street line. Ops, who have ``pii.read``, still see them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from conftest import order_body
from integration.rules_support import publish, settle
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.address import Address
from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.decision_tables import example_return_centres
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services import ordering, returns
from orderpilot.services.accounts import create_token, create_user

PASSWORD = "correct-horse-42"
CN = {"name": "张三", "phone": "13800000000", "line1": "保税区港城大道1号"}
SG = {"name": "Tan Ah Kow", "phone": "+6591234567", "line1": "10 Anson Road #12-01"}
# What must never appear: the values, their digits alone, and their JSON-escaped forms.
SECRETS = [CN["name"], CN["phone"], CN["line1"], SG["name"], SG["phone"], "6591234567",
           SG["line1"]]
SECRETS += [json.dumps(s)[1:-1] for s in SECRETS] + [escape(s) for s in SECRETS]
NON_PII_ROLES = ("viewer", "finance", "warehouse")

RULE = {
    "name": "buyer follow-up",
    "trigger": {"kind": "event", "event": "order.placed"},
    "conditions": {"all": [
        {"field": "order.customer.phone", "op": "not_empty"},
        {"field": "order.customer.name", "op": "not_empty"},
        {"field": "order.address.line1", "op": "not_empty"}]},
    "actions": [
        {"id": "check", "type": "http.call",
         "params": {"connector": "customs", "path": "/api/qualification/check",
                    "body": {"phone": "{{ order.customer.phone }}",
                             "name": "{{ order.customer.name }}"}}},
        {"id": "remind", "type": "sms.send",
         "params": {"template": "SMS_PAY_REMIND",
                    "params": {"order_no": "{{ order.external_id }}"}}},
        {"id": "ticket", "type": "ticket.create",
         "params": {"title": "回访 {{ order.external_id }}",
                    "body": "买家 {{ order.customer.name }} 电话 {{ order.customer.phone }} "
                            "地址 {{ order.address.line1 }}", "priority": "normal"}}]}


@dataclass
class Seeded:
    hub: Hub
    client: TestClient
    app: Any
    tokens: dict[str, str]
    ids: dict[str, str]


@pytest.fixture
def seeded(rules_hub: Hub) -> Iterator[Seeded]:
    hub = rules_hub
    with hub.db.write() as conn:
        accounts = AccountRepository(conn)
        tokens = {role: create_token(accounts, f"{role}-token", role, hub.clock,
                                     ("helpdesk",))[1]
                  for role in ("admin", "ops", *NON_PII_ROLES)}
        for role in NON_PII_ROLES:
            create_user(accounts, role, PASSWORD, role, hub.clock, display_name=role.title())
    hub.rules.install_template("unpaid-30min-reminder", "ops")  # registers SMS_PAY_REMIND
    hub.decision_tables.save(example_return_centres(), "ops", "first version")
    rule_id = publish(hub, RULE, "follow-up")
    app = create_app(hub)
    with TestClient(app, follow_redirects=False) as client:
        ops = {"Authorization": f"Bearer {tokens['ops']}"}
        orders = {}
        for key, who, country, currency in (("cn", CN, "CN", "CNY"), ("sg", SG, "SG", "SGD")):
            body = order_body(f"PII-{key}", currency=currency,
                              customer={"name": who["name"], "phone": who["phone"]})
            body["shipping_address"] = {**body["shipping_address"], "country": country,
                                        "line1": who["line1"]}
            answer = client.post("/api/v1/orders", json=body, headers=ops)
            assert answer.status_code == 201, answer.text
            orders[key] = answer.json()["id"]
        hold = client.post(f"/api/v1/orders/{orders['cn']}/holds", headers=ops, json={
            "reason": "address_incomplete", "note": f"回电 {CN['phone']} / {SG['phone']}"})
        assert hold.status_code == 201, hold.text
        event = client.post(f"/api/v1/orders/{orders['sg']}/events", headers=ops, json={
            "type": "customer.contacted", "source": "helpdesk", "source_event_id": "call-1",
            "occurred_at": "2026-11-26T10:30:00+08:00",
            "data": {"caller": SG["phone"], "customer_name": SG["name"],
                     "note": f"{SG['name']} asked about {SG['line1']}"}})
        assert event.status_code == 201, event.text
        for n, (type_, source) in enumerate((("payment.succeeded", "shopee"),
                                             ("wms.released", "wms"),
                                             ("shipment.shipped", "sf"))):
            ordering.report_event(ReportEvent(orders["sg"], type_, source, hub.clock(),
                                              source_event_id=f"pii-{n}"), hub.uow, hub.clock)
        return_id = returns.request_return(returns.RequestReturn(  # the buyer's own address
            orders["sg"], [("DIAPER-L", 1)], ["wrong_size"], "",
            customer_address=Address("SG", "", "Singapore", "", SG["line1"])),
            hub.uow, hub.clock).ret.id
        settle(hub)
        runs = client.get("/api/v1/rule-runs", headers=ops).json()["items"]
        tickets = client.get("/api/v1/tickets", headers=ops).json()["items"]
        assert runs and tickets, "the rule ran and opened tickets"
        # The helpdesk has the SG order at the CN buyer's street: a walkthrough finding whose
        # values are both addresses, run by ops (who read them) and read by the others.
        wms = client.post(f"/api/v1/orders/{orders['sg']}/events", headers=ops, json={
            "type": "customer.contacted", "source": "helpdesk", "source_event_id": "call-2",
            "occurred_at": "2026-11-26T10:31:00+08:00", "data": {"address": CN["line1"]}})
        assert wms.status_code == 201, wms.text
        audit = client.post("/api/v1/audits/walkthrough", headers=ops,
                            json={"sample": 100, "seed": 1})
        assert audit.status_code == 201, audit.text
        assert any(f["field"] == "address" for o in audit.json()["result"]["orders"]
                   for f in o["findings"])
        exceptions = client.get("/api/v1/exceptions", headers=ops).json()["items"]
        assert exceptions, "the hold opened an exception (its note names both phones)"
        ids = {"order_id": orders["cn"], "hold_id": hold.json()["id"],
               "exception_id": exceptions[0]["id"],
               "event_id": event.json()["event_id"], "run_id": runs[0]["id"],
               "ticket_id": tickets[0]["id"], "rule_id": rule_id, "name": "return_centres",
               "code": "SMS_PAY_REMIND", "channel": "shopee", "promotion_id": "none",
               "template_id": "high-value-review", "action": "pause", "fmt": "xlsx",
               "sg_order_id": orders["sg"], "seq": "1", "carrier": "yto",
               "audit_id": audit.json()["id"],
               "n": "1",  # a reconciliation discrepancy's number
               "return_id": return_id,
               # users and tokens (admins only: every role here is refused)
               "username": "ops-user", "session": "0" * 16, "token_id": "none",
               # webhooks: only admins and ops read them, both with pii.read (refused here)
               "webhook_id": "none", "delivery_id": "none"}
        yield Seeded(hub, client, app, tokens, ids)


def _bodies(ids: dict[str, str]) -> dict[str, Any]:
    definition = {**RULE, "name": "try it"}
    return {"/api/v1/rules/try": {"definition": definition, "order_id": ids["order_id"]},
            "/api/v1/rules/validate": {"definition": definition},
            "/api/v1/rules/backtest": {"definition": definition, "days": 7},
            "/api/v1/decision-tables/{name}/evaluate": {"event": {"data": {}}},
            "/api/v1/orders/{order_id}/notes": {"text": "买家电话 13812345678 已联系"},
            "/api/v1/orders/bulk/preview": {"action": "add_tag", "order_ids": [ids["order_id"]],
                                            "tag": "checked"}}


def _text_of(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        book = load_workbook(BytesIO(response.content), read_only=True)
        return "\n".join(str(v) for sheet in book.worksheets
                         for row in sheet.iter_rows(values_only=True) for v in row)
    return response.text


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def all_routes(app: Any) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, included routers opened up (FastAPI keeps them as
    one entry each in app.routes)."""
    out: list[tuple[str, set[str]]] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "effective_candidates"):
                walk(route.effective_candidates())
            elif isinstance(getattr(route, "methods", None), set | frozenset):
                out.append((route.path, set(route.methods)))

    walk(list(app.routes))
    return out


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: ids[m.group(1)], path)


def test_every_api_route_masks_personal_data_for_readers_without_pii_read(
        seeded: Seeded) -> None:
    client, bodies = seeded.client, _bodies(seeded.ids)
    routes = [r for r in all_routes(seeded.app) if not r[0].startswith(("/console", "/docs",
                                                                         "/redoc", "/openapi"))]
    assert len(routes) > 40
    seen: dict[str, int] = {}
    for role in NON_PII_ROLES:
        headers = {"Authorization": f"Bearer {seeded.tokens[role]}"}
        for path, methods in routes:
            for method in sorted(methods - {"HEAD"}):
                for order in ("order_id", "sg_order_id"):
                    ids = {**seeded.ids, "order_id": seeded.ids[order]}
                    url = _fill(path, ids)
                    body = bodies.get(path)
                    if isinstance(body, dict) and "order_id" in body:
                        body = {**body, "order_id": ids["order_id"]}
                    answer = client.request(method, url, headers=headers,
                                            json=body if method != "GET" else None)
                    assert answer.status_code < 500, (method, url, answer.text)
                    seen[f"{method} {path}"] = answer.status_code
                    leaked = _leaks(_text_of(answer))
                    assert not leaked, f"{role} {method} {url} shows {leaked}: {answer.text}"
    # The walk saw real content, not only refusals.
    for key in ("GET /api/v1/orders", "GET /api/v1/orders/{order_id}",
                "GET /api/v1/orders/{order_id}/events", "GET /api/v1/rule-runs",
                "GET /api/v1/rule-runs/{run_id}", "GET /api/v1/tickets",
                "GET /api/v1/returns/{return_id}", "GET /api/v1/returns"):
        assert seen[key] == 200, key
    viewer = {"Authorization": f"Bearer {seeded.tokens['viewer']}"}
    detail = client.get(f"/api/v1/orders/{seeded.ids['order_id']}", headers=viewer).json()
    assert detail["customer"] == {"name": "张*", "phone": "138****0000"}
    assert detail["raw_payloads"][0]["payload"]["customer"]["phone"] == "138****0000"
    sg = client.get(f"/api/v1/orders/{seeded.ids['sg_order_id']}", headers=viewer).json()
    assert sg["customer"]["phone"] == "+65****4567"
    run = client.get(f"/api/v1/rule-runs/{seeded.ids['run_id']}", headers=viewer).json()
    assert {leaf["field"] for leaf in run["trace"]["leaves"]} >= {"order.customer.phone"}


def test_readers_with_pii_read_see_the_buyer(seeded: Seeded) -> None:
    ops = {"Authorization": f"Bearer {seeded.tokens['ops']}"}
    detail = seeded.client.get(f"/api/v1/orders/{seeded.ids['sg_order_id']}",
                               headers=ops).json()
    assert detail["customer"] == {"name": SG["name"], "phone": SG["phone"]}
    assert detail["shipping_address"]["line1"] == SG["line1"]


def _sign_in(client: TestClient, username: str) -> None:
    page = client.get("/console/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    answer = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": csrf.group(1)})
    assert answer.status_code == 303, answer.text


def test_every_console_page_masks_personal_data_for_readers_without_pii_read(
        seeded: Seeded) -> None:
    pages = [path for path, methods in all_routes(seeded.app)
             if path.startswith("/console") and "GET" in methods and path != "/console/login"]
    assert len(pages) > 20
    shown = {}
    for role in NON_PII_ROLES:
        with TestClient(seeded.app, follow_redirects=False) as client:
            _sign_in(client, role)
            for path in pages:
                for order in ("order_id", "sg_order_id"):
                    url = _fill(path, {**seeded.ids, "order_id": seeded.ids[order]})
                    answer = client.get(url)
                    assert answer.status_code < 500, (url, answer.text)
                    shown[path] = answer.status_code
                    leaked = _leaks(_text_of(answer))
                    assert not leaked, f"{role} GET {url} shows {leaked}"
    for path in ("/console/orders", "/console/orders/{order_id}", "/console/rule-runs/{run_id}",
                 "/console/tickets", "/console/messages"):
        assert shown[path] == 200, path
