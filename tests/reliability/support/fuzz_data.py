"""Data the fuzz runs against, made through the API before fuzzing, and the real ids and
valid bodies that keep generated requests from stopping at "not found" or validation.

Each operation is fuzzed with schemathesis's own cases (valid and invalid by the schema), its
path parameters mostly drawn from these real ids, and, where the schema cannot express the
domain's rules (totals that match their lines, rule definitions, decision-table grids), bodies
built here: valid ones with hypothesis-chosen text, so some cases get past validation.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from conftest import order_body
from integration.rules_support import publish, settle
from integration.test_decision_tables_api import grid
from integration.test_inventory import setup_stock
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub
from orderpilot.domain import returns as rd
from orderpilot.domain.expectations import TEMPLATES as EXPECTATION_TEMPLATES
from orderpilot.domain.return_reasons import REASONS
from orderpilot.integrations.kingdee.mapping import default_document
from reliability.support.orders import canonical_order

# On the default allow-list (a platform's origin); the fuzzed hub never sends to it.
WEBHOOK_URL = "https://partner.shopeemobile.com/orderpilot-fuzz-hooks"
EXPECTATION = EXPECTATION_TEMPLATES[0]  # payment -> ERP booked within 15 minutes
CENTRE = {"name_zh": "义乌退货中心", "name_en": "Yiwu return centre",
          "address": {"country": "CN", "province": "浙江省", "city": "金华市", "district": "义乌市",
                      "line1": "稠江街道退货路88号", "postal_code": "322000"},
          "phone": "057985550000"}
TICKET_RULE = {"name": "每单一张工单", "trigger": {"kind": "event", "event": "order.placed"},
               "conditions": {"all": []},
               "actions": [{"id": "t", "type": "ticket.create",
                            "params": {"title": "看看 {{ order.external_id }}",
                                       "priority": "urgent", "tags": ["fuzz"]}}]}
HOLD_RULE = {"name": "大单暂停", "trigger": {"kind": "event", "event": "order.placed"},
             "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 500}]},
             "actions": [{"id": "h", "type": "order.hold", "params": {"reason": "big"}}]}


@dataclass
class Seeded:
    """Real ids by path parameter name (``code`` differs between sources and SMS templates)."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    sms_codes: list[str] = field(default_factory=list)
    holds: list[tuple[str, str]] = field(default_factory=list)  # (order id, hold id)
    shipped: list[str] = field(default_factory=list)  # orders that take returns
    cancellable: list[str] = field(default_factory=list)  # orders the fuzz may cancel

    def for_parameter(self, path: str, name: str) -> list[str]:
        if name == "code" and "sms-templates" in path:
            return self.sms_codes
        if name == "code" and "/expectations/" in path:
            return self.ids.get("expectation_code", [])
        if name == "run_id" and "/audits/walkthrough/" in path:
            return self.ids.get("audit_id", [])
        if name == "run_id" and "/reconciliations/" in path:
            return self.ids.get("reconciliation_id", [])
        if name == "order_id" and path.endswith("/returns"):
            return self.shipped
        if name == "order_id" and path.endswith("/cancel"):  # the others keep their state
            return self.cancellable
        return self.ids.get(name, [])


def seed_hub(api: Any, hub: Hub) -> Seeded:
    """Orders in several states with holds, stock, rules with runs and tickets, a decision
    table, promotions (one live, one draft) and SMS templates."""
    setup_stock(api, nb=200, hz=50)
    # Webhook subscriptions before the orders, so their events queue deliveries (none is sent:
    # the fuzzed hub runs no sender; some are dead-lettered below, for replays).
    webhooks = []
    for events in (["*"], ["order.placed", "payment.succeeded"]):
        made = api.post("/api/v1/webhooks", json={"url": WEBHOOK_URL, "events": events,
                                                  "secret": "fuzz-webhook-secret-0123"})
        assert made.status_code == 201, made.text
        webhooks.append(made.json()["id"])
    gift = api.put("/api/v1/inventory/levels", json={"source_event_id": "fuzz-gifts", "levels": [
        {"source": "NB", "sku": "GIFT-BIB", "on_hand": 500}]})
    assert gift.status_code == 200, gift.text
    rules = [publish(hub, TICKET_RULE, "fuzz-tickets"), publish(hub, HOLD_RULE, "fuzz-holds")]
    orders = []
    for n in range(6):
        lines = [{"sku": "DIAPER-L", "quantity": 1 + n, "unit_price": "129.00"}]
        answer = api.post("/api/v1/orders", json=order_body(
            f"FUZZ-SEED-{n}", lines=lines, total=f"{129 * (1 + n)}.00"))
        assert answer.status_code == 201, answer.text
        orders.append(answer.json()["id"])
    cancellable = [api.post("/api/v1/orders", json=order_body(f"FUZZ-CANCEL-{n}")).json()["id"]
                   for n in range(3)]
    for order_id in orders[:3]:
        paid = api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "payment.succeeded", "source": "shopee", "source_event_id": f"pay-{order_id}",
            "occurred_at": "2026-11-26T10:05:00+08:00"})
        assert paid.status_code in (200, 201, 202), paid.text
    shipped, return_ids = _shipped_with_returns(api), []
    for order_id in shipped:
        for _ in range(2):
            made = api.post(f"/api/v1/orders/{order_id}/returns", json={
                "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_text": "尺码偏小"})
            assert made.status_code == 201, made.text
            return_ids.append(made.json()["id"])
    holds = []
    for order_id, reason in itertools.product(orders, ("address_incomplete", "customs_check")):
        held = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": reason,
                                                                  "note": "门牌号缺失"})
        assert held.status_code == 201, held.text
        holds.append((order_id, held.json()["id"]))
    refused = api.post(f"/api/v1/orders/{orders[5]}/events", json={  # kept as refused
        "type": "wms.packed", "source": "wms", "source_event_id": "fuzz-refused",
        "occurred_at": "2026-11-26T10:06:00+08:00", "data": {"parcel": "P1"}})
    assert refused.status_code == 409, refused.text
    table = api.put("/api/v1/decision-tables/return_centres", json=grid(reason="fuzz seed"))
    assert table.status_code in (200, 201), table.text
    promotions = []
    for name in ("直播间前100单送围兜", "草稿活动"):
        made = api.post("/api/v1/promotions", json={
            "name": name, "trigger_sku": "DIAPER-L", "gift_sku": "GIFT-BIB",
            "gift_source": "NB", "quota": 100})
        assert made.status_code == 201, made.text
        promotions.append(made.json()["id"])
    assert api.post(f"/api/v1/promotions/{promotions[0]}/start").status_code == 200
    hub.rules.ensure_default_sms_templates()
    settle(hub)
    centre = api.put("/api/v1/return-centres/YIWU", json=CENTRE)
    assert centre.status_code in (200, 201), centre.text
    # The proof pages: a walkthrough, a reconciliation with discrepancies, an expectation.
    audit = api.post("/api/v1/audits/walkthrough", json={"sample": 5, "seed": 1})
    assert audit.status_code == 201, audit.text
    reconciled = api.post("/api/v1/reconciliations",
                          json={"since": "2026-11-01", "until": "2026-11-30"})
    assert reconciled.status_code == 201, reconciled.text
    expectation = api.put(f"/api/v1/expectations/{EXPECTATION['code']}",
                          json={k: v for k, v in EXPECTATION.items() if k != "code"})
    assert expectation.status_code in (200, 201), expectation.text
    # Users and spare tokens to manage (never the fuzzing token: revoking it would stop the
    # run); two administrators, so demoting one is not always the last-admin refusal.
    for username, role in (("fuzz.ops", "ops"), ("fuzz.boss", "admin"), ("fuzz.deputy", "admin")):
        made = api.post("/api/v1/users", json={"username": username, "role": role})
        assert made.status_code == 201, made.text
    spare = [api.post("/api/v1/tokens", json={"name": f"spare-{n}", "role": "viewer"}
                      ).json()["id"] for n in range(3)]
    runs = [r["id"] for r in api.get("/api/v1/rule-runs").json()["items"]]
    tickets = [t["id"] for t in api.get("/api/v1/tickets").json()["items"]]
    templates = [t["id"] for t in api.get("/api/v1/rules/templates").json()["items"]]
    sms = [t["code"] for t in api.get("/api/v1/sms-templates").json()["items"]]
    exceptions = [x["id"] for x in api.get("/api/v1/exceptions",
                                           params={"limit": 200}).json()["items"]]
    assert runs and tickets and templates and sms and holds and exceptions, (
        runs, tickets, templates, sms, exceptions)
    deliveries = _dead_letters(hub)
    assert deliveries
    return Seeded(ids={
        "order_id": orders, "hold_id": [h for _o, h in holds], "rule_id": rules, "run_id": runs,
        "ticket_id": tickets, "template_id": templates, "promotion_id": promotions,
        "name": ["return_centres"], "code": ["NB", "HZ", "LA"],
        "channel": ["shopee", "lazada", "default"], "action": ["enable", "pause"],
        "return_id": return_ids, "audit_id": [audit.json()["id"]],
        "reconciliation_id": [reconciled.json()["id"]], "n": ["1", "2", "3"],
        "expectation_code": [EXPECTATION["code"]],
        "username": ["fuzz.ops", "fuzz.boss", "fuzz.deputy"], "token_id": spare,
        "exception_id": exceptions, "webhook_id": webhooks, "delivery_id": deliveries,
    }, sms_codes=sms, holds=holds, shipped=shipped, cancellable=cancellable)


def _dead_letters(hub: Hub) -> list[str]:
    """Every queued webhook delivery, dead-lettered (as a failing receiver would leave them):
    each may be replayed once."""
    now = hub.clock()
    with SqlUnitOfWork(hub.db) as uow:
        claimed = uow.webhooks.claim("fuzz-seed", now, timedelta(minutes=1), 1000)
        for delivery in claimed:
            uow.webhooks.record(delivery["id"], "fuzz-seed", now, status="dead", retry_at=None,
                                attempt={"response_status": 503, "last_error": "seeded"})
    return [d["id"] for d in claimed]


def _shipped_with_returns(api: Any) -> list[str]:
    """Three shipped orders of 40 units (1.00 each: no big-order hold), for returns."""
    shipped = []
    for n in range(3):
        answer = api.post("/api/v1/orders", json=order_body(
            f"FUZZ-SHIPPED-{n}", lines=[{"sku": "DIAPER-L", "quantity": 40,
                                         "unit_price": "1.00"}], total="40.00"))
        assert answer.status_code == 201, answer.text
        order_id = answer.json()["id"]
        for type_, source in (("payment.succeeded", "shopee"), ("wms.released", "wms"),
                              ("shipment.shipped", "sf")):
            moved = api.post(f"/api/v1/orders/{order_id}/events", json={
                "type": type_, "source": source, "source_event_id": f"{type_}-{order_id}",
                "occurred_at": "2026-11-26T10:05:00+08:00"})
            assert moved.status_code == 201, moved.text
        shipped.append(order_id)
    return shipped


words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=30)
names = words.filter(lambda w: bool(w.strip()))  # a name must not be blank
_serial = itertools.count()


def _unique(prefix: str) -> st.SearchStrategy[str]:
    return st.builds(lambda _: f"{prefix}-{next(_serial)}", st.none())


def _mapping(customer: str) -> dict[str, Any]:
    document = default_document("100")
    document["lookups"]["customers"]["default"] = customer
    return document


def valid_queries() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Query strings that pass validation, for operations whose generated ones rarely do."""
    # Varied, since hypothesis does not repeat an example: a constant query would be sent once.
    no_query = st.fixed_dictionaries({}, optional={"limit": st.integers(1, 100)})
    listings = ("orders", "tickets", "rules", "rule-runs", "quarantine", "inventory/levels",
                "inventory/sync-runs")
    return {
        **{f"GET /api/v1/{listing}": no_query for listing in listings},
        # the handler checks status and reason against its lists (422 otherwise): generated
        # text passed in 3 calls of 21 with one seed, so the filters are drawn from the lists
        "GET /api/v1/returns": st.fixed_dictionaries({}, optional={
            "status": st.sampled_from(tuple(rd.STATUSES)),
            "reason": st.sampled_from(tuple(REASONS)),
            "sku": st.sampled_from(["DIAPER-L", "NOPE"]), "limit": st.integers(1, 100)}),
        # a constant query is sent once: vary it with a key the API ignores, as a client's
        # cache-busting parameter (one seed gave 2 valid calls of 11 with st.just({}))
        "GET /api/v1/decision-tables/{name}": st.builds(lambda n: {"_": str(n)},
                                                        st.integers(0, 10**6)),
        **{f"GET /api/v1/audit-log{tail}": st.fixed_dictionaries({}, optional={
            "action": st.sampled_from(["hold.place", "user.create", "request"]),
            "since": st.sampled_from(["2026-11-01", "2026-11-26T00:00:00+08:00"]),
            "via": st.sampled_from(["api", "console", "cli"]), "q": st.text(max_size=5),
            **({"limit": st.integers(1, 100)} if not tail else {})})
           for tail in ("", "/export.xlsx")},
        "GET /api/v1/decision-tables/{name}/export": st.fixed_dictionaries(
            {}, optional={"format": st.sampled_from(["xlsx", "csv"])}),
        "GET /api/v1/availability": st.builds(
            lambda q, region: {"sku": "DIAPER-L", "quantity": q, "region": region},
            st.integers(1, 5), st.sampled_from(["浙江省", "US", ""])),
        # a period of whole days (until on or after since), sometimes one channel's
        "GET /api/v1/returns/metrics": st.builds(
            lambda start, days, more: {"since": f"2026-{start[0]:02d}-{start[1]:02d}",
                                       "until": f"2026-{start[0]:02d}-{start[1] + days:02d}",
                                       **more},
            st.tuples(st.integers(1, 12), st.integers(1, 9)), st.integers(0, 19),
            st.fixed_dictionaries({}, optional={"channel": st.sampled_from(
                ["shopee", "lazada", "youzan"])})),
        # outcome KPIs: a period of whole days, sometimes one channel's or shop's
        **{f"GET /api/v1/kpis{tail}": st.builds(
            lambda start, days, more, extra=extra: {
                "since": f"2026-{start[0]:02d}-{start[1]:02d}",
                "until": f"2026-{start[0]:02d}-{start[1] + days:02d}", **more, **extra},
            st.tuples(st.integers(1, 12), st.integers(1, 9)), st.integers(0, 19),
            st.fixed_dictionaries({}, optional={
                "channel": st.sampled_from(["shopee", "lazada", "youzan"]),
                "shop": st.sampled_from(["SG-01", "S1"])}))
            for tail, extra in (("", {}), ("/trend", {"bucket": "day"}),
                                ("/manual-interventions", {"page": 1}))},
        # the generated ones mostly carry a reason outside its closed list (one seed: 4 of 27)
        "GET /api/v1/refused-reports": st.fixed_dictionaries({}, optional={
            "limit": st.integers(1, 100),
            "system": st.sampled_from(["shopee", "lazada", "kingdee", "wms"]),
            "reason": st.sampled_from(["illegal_step", "on_hold", "unknown_order",
                                       "event_id_reused"]),
            "since": st.sampled_from(["2026-11-01T00:00:00Z", "2026-11-26T00:00:00+08:00"])}),
        "GET /api/v1/exceptions": st.fixed_dictionaries({}, optional={
            "limit": st.integers(1, 100),
            "status": st.sampled_from(["active", "open", "decision_required", "resolved", "all"]),
            "kind": st.sampled_from(["hold", "out_of_stock", "expectation_breach"]),
            "reason": st.sampled_from(["address_incomplete", "customs_check"]),
            "owner": st.sampled_from(["ops", "warehouse"]), "mine": st.sampled_from(["yes", "no"]),
            "overdue": st.sampled_from(["yes", "no"])}),
        # an edge of the lifecycle (a node and one it moves to), sometimes a period
        "GET /api/v1/diagnosis/flow/slowest": st.builds(
            lambda edge, more: {"from": edge[0], "to": edge[1], **more},
            st.sampled_from([("placed", "paid"), ("paid", "erp_booked"),
                             ("erp_booked", "allocated"), ("shipped", "delivered")]),
            st.fixed_dictionaries({}, optional={
                "limit": st.integers(1, 50), "since": st.sampled_from(["2026-11-01"]),
                "channel": st.sampled_from(["shopee", "lazada"])})),
        # a template installed again overlaps with itself: "keep both"
        "POST /api/v1/rules/templates/{template_id}/install": st.fixed_dictionaries(
            {"confirm_overlap": st.just("true")}, optional={"enable": st.booleans()}),
    }


def valid_bodies(seeded: Seeded) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Bodies that pass validation, by operation label, for operations whose schema alone
    does not say what a valid body is."""
    run_ids = st.lists(st.sampled_from(seeded.ids["run_id"]), min_size=1, max_size=3)
    rule = st.builds(lambda name: {**HOLD_RULE, "name": name}, names)
    return {
        "POST /api/v1/orders": st.builds(lambda n, key: canonical_order(n, key),
                                         st.integers(0, 10_000), _unique("FZ")),
        "POST /api/v1/orders/{order_id}/events": st.builds(
            lambda kind, key: {"type": kind, "source": "shopee", "source_event_id": key,
                               "occurred_at": "2026-11-26T11:00:00+08:00"},
            st.sampled_from(["payment.succeeded", "order.cancelled"]), _unique("ev")),
        "POST /api/v1/orders/{order_id}/holds": st.builds(
            lambda reason, note: {"reason": reason, "note": note},
            st.sampled_from(["address_incomplete", "customs_check", "price_error"]), words),
        "DELETE /api/v1/orders/{order_id}/holds/{hold_id}": st.builds(
            lambda reason, note: {"reason": reason, "note": note},
            st.sampled_from(["verified_with_buyer", "address_fixed", "false_alarm"]), words),
        "POST /api/v1/orders/{order_id}/notes": st.builds(lambda text: {"text": text}, names),
        "POST /api/v1/allocation/retry": st.one_of(
            st.builds(lambda ids: {"order_ids": ids},
                      st.lists(st.sampled_from(seeded.ids["order_id"]), min_size=1, max_size=3)),
            st.just({"sku": "DIAPER-L"})),
        "POST /api/v1/orders/bulk/preview": st.builds(
            lambda ids, tag: {"action": "add_tag", "order_ids": ids, "tag": tag},
            st.lists(st.sampled_from(seeded.ids["order_id"]), min_size=1, max_size=3), names),
        "POST /api/v1/rules": st.builds(lambda d, publish_it, keep: {
            "definition": d, "publish": publish_it, "confirm_overlap": keep},
            rule, st.booleans(), st.booleans()),
        "POST /api/v1/rules/templates/{template_id}/draft": st.builds(
            lambda name, keep: {"answers": {}, "name": name, "confirm_overlap": keep},
            names, st.booleans()),
        "PUT /api/v1/rules/{rule_id}/draft": rule,
        "POST /api/v1/rules/{rule_id}/publish": st.builds(
            lambda r, keep: {"reason": r, "confirm_overlap": keep}, words, st.booleans()),
        "POST /api/v1/rules/{rule_id}/rollback": st.builds(
            lambda v, r: {"version": v, "reason": r}, st.integers(1, 2), words),
        "POST /api/v1/rules/validate": rule,
        "POST /api/v1/rules/try": st.builds(
            lambda d, o: {"definition": d, "order_id": o}, rule,
            st.sampled_from(seeded.ids["order_id"])),
        "POST /api/v1/rules/backtest": st.builds(lambda d, days: {"definition": d, "days": days},
                                                 rule, st.integers(1, 7)),
        "POST /api/v1/rule-runs/replay": st.builds(lambda ids: {"run_ids": ids}, run_ids),
        "PATCH /api/v1/tickets/{ticket_id}": st.builds(
            lambda s: {"status": s}, st.sampled_from(["open", "in_progress", "resolved"])),
        "PUT /api/v1/sms-templates/{code}": st.builds(
            lambda p, sign, text: {"provider": p, "sign_name": sign, "text": text},
            st.sampled_from(["aliyun", "tencent"]), names, names),
        "PUT /api/v1/decision-tables/{name}": st.builds(lambda r: grid(reason=r), words),
        "PUT /api/v1/erp/mapping": st.builds(lambda n: _mapping(f"CUST-{n}"),
                                               st.integers(0, 10**6)),
        "POST /api/v1/decision-tables/{name}/evaluate": st.builds(
            lambda outlet: {"event": {"data": {"outlet_code": outlet}}},
            st.sampled_from(["GZ01", "SH01", "XX"])),
        "PUT /api/v1/inventory/sources/{code}": st.builds(
            lambda name, days: {"kind": "bonded_spot", "name_zh": name, "name_en": "Ningbo",
                                "lead_time_days": days}, names, st.integers(0, 30)),
        "PUT /api/v1/inventory/levels": st.builds(
            lambda key, on_hand: {"source_event_id": key, "levels": [
                {"source": "NB", "sku": "DIAPER-L", "on_hand": on_hand}]},
            _unique("lv"), st.integers(0, 500)),
        "PUT /api/v1/inventory/strategies/{channel}": st.builds(
            lambda split: {"tiers": ["bonded_spot", "domestic_transfer"], "allow_split": split},
            st.booleans()),
        "POST /api/v1/orders/{order_id}/returns": st.builds(
            lambda text, key: {"lines": [{"sku": "DIAPER-L", "quantity": 1}],
                               "reason_text": text, "source": "fuzz", "source_event_id": key},
            words, _unique("rt")),
        "PUT /api/v1/returns/reason-keywords": st.builds(
            lambda table: {"keywords": table}, st.dictionaries(
                st.text(st.sampled_from("压坏破损尺码偏小发错"), min_size=1, max_size=6),
                st.sampled_from(["damaged_packaging", "wrong_size", "wrong_item", "other"]),
                max_size=5)),
        "PUT /api/v1/return-centres/{code}": st.builds(
            lambda name, phone: {**CENTRE, "name_zh": name, "phone": f"0579{phone:08d}"},
            names, st.integers(0, 10**8 - 1)),
        "PUT /api/v1/return-policy": st.builds(
            lambda outlets: {"rows": [{"outlet_code": f"SF-{o:04d}", "return_centre": "YIWU"}
                                      for o in outlets]},
            st.lists(st.integers(0, 9999), max_size=5, unique=True)),
        "POST /api/v1/returns/{return_id}/route": st.builds(
            lambda retry, note: {"retry": True, "note": note} if retry
            else {"return_centre": "YIWU", "note": note}, st.booleans(), words),
        "POST /api/v1/audits/walkthrough": st.builds(
            lambda n, seed: {"sample": n, "seed": seed}, st.integers(1, 12),
            st.integers(0, 10**6)),
        "POST /api/v1/reconciliations": st.builds(
            lambda day: {"since": f"2026-11-{day:02d}", "until": "2026-11-30"},
            st.integers(1, 29)),
        "PUT /api/v1/reconciliations/auto-fix": st.builds(
            lambda classes: {"classes": classes},
            # one class has a safe automatic fix; naming it again is allowed, so the bodies
            # differ (hypothesis sends a given example once)
            st.lists(st.just("missing_in_erp"), max_size=25)),
        "PUT /api/v1/expectations/{code}": st.builds(
            lambda minutes, severity: {**{k: v for k, v in EXPECTATION.items() if k != "code"},
                                       "within_minutes": minutes, "severity": severity},
            st.integers(1, 1440), st.sampled_from(["info", "warning"])),
        "POST /api/v1/users": st.builds(
            lambda name, role, display: {"username": name, "role": role,
                                         "display_name": display[:100]},
            _unique("fuzz.user"), st.sampled_from(["ops", "viewer", "finance"]), words),
        "PATCH /api/v1/users/{username}": st.fixed_dictionaries({}, optional={
            "role": st.sampled_from(["admin", "ops", "viewer"]), "disabled": st.booleans()}),
        "POST /api/v1/tokens": st.builds(
            lambda name, role: {"name": name[:100], "role": role}, names,
            st.sampled_from(["ops", "viewer", "warehouse"])),
        "POST /api/v1/exceptions/bulk": st.builds(
            lambda ids, action, preview, confirm: {
                "action": action, "ids": ids, "preview": preview, "confirm": confirm,
                "reason": "false_alarm", "assignee": "li.ops"},
            st.lists(st.sampled_from(seeded.ids["exception_id"]), min_size=1, max_size=3),
            st.sampled_from(["release", "assign", "resolve", "retry_allocation"]), st.booleans(),
            st.integers(0, 3)),
        # the orders kept for cancelling (Seeded.cancellable): cancelled once, then "already"
        "POST /api/v1/orders/{order_id}/cancel": st.builds(
            lambda reason, note: {"reason": reason, "note": note[:100]},
            st.sampled_from(["out_of_stock", "customer_request", "undeliverable",
                             "customs_refused", "suspected_fraud"]), names),
        "POST /api/v1/exceptions/{exception_id}/assign": st.builds(
            lambda name, me: {"assignee": name, "me": me}, names, st.booleans()),
        "POST /api/v1/exceptions/{exception_id}/comments": st.builds(
            lambda text: {"text": text}, names),
        "POST /api/v1/webhooks": st.builds(
            lambda events, secret, note: {"url": WEBHOOK_URL, "events": events,
                                          "secret": f"fuzz-secret-{secret:08d}",
                                          "description": note[:100]},
            st.lists(st.sampled_from(["*", "order.placed", "payment.succeeded",
                                      "shipment.shipped", "hold.placed"]),
                     min_size=1, max_size=4), st.integers(0, 10**8), words),
        "POST /api/v1/promotions": st.builds(
            lambda name, quota: {"name": name, "trigger_sku": "DIAPER-L", "gift_sku": "GIFT-BIB",
                                 "gift_source": "NB", "quota": quota},
            names, st.integers(1, 3)),
    }
