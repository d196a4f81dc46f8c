"""Fuzzing the console's form posts: every POST route of the console, signed in as an admin
with a valid anti-forgery token, gets hypothesis-generated form fields; no answer is a 5xx.

The routes are found in the app itself, so a new form is fuzzed without touching this file.
Field names come from each route's declared form parameters and from every ``name="..."`` on
the console's own pages (forms that read the request themselves); values are hostile text,
numbers, dates and real ids. The hub holds seeded data (reliability/support/fuzz_data.py) so
path parameters name orders, holds, rules, runs, tickets, tables, sources and promotions that
exist. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user
from reliability.support.fuzz_data import Seeded, seed_hub

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FIELD = re.compile(r'name="([A-Za-z_][\w.\[\]-]{0,60})"')
EXAMPLES = 15  # per route
# Pages whose forms name the fields of the routes that read the form themselves.
FORM_PAGES = ("/console/rules/new", "/console/decision-tables/new", "/console/inventory",
              "/console/inventory/sources/new", "/console/promotions", "/console/rule-runs",
              "/console/tickets", "/console/decision-tables", "/console/orders")
NOT_FUZZED = {"/console/logout"}  # would end the session the other posts need; posted last


def console_posts(app: FastAPI) -> list[APIRoute]:
    """Every POST route of the console (FastAPI wraps included routers; look inside)."""
    found = []
    for entry in app.router.routes:
        router = getattr(entry, "original_router", None)
        for route in (router.routes if router is not None else [entry]):
            if (isinstance(route, APIRoute) and "POST" in route.methods
                    and route.path.startswith("/console")
                    and route.path not in NOT_FUZZED):
                found.append(route)
    return found


@pytest.fixture
def signed_in(hub: Hub, tokens: dict[str, str]) -> Iterator[tuple[TestClient, Seeded]]:
    app = create_app(hub)
    with TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {tokens['admin']}"
        seeded = seed_hub(api, hub)
    with hub.db.write() as conn:
        create_user(AccountRepository(conn), "fuzz-admin", PASSWORD, "admin", hub.clock,
                    display_name="Fuzz")
    with TestClient(app, follow_redirects=False) as client:
        login = CSRF.search(client.get("/console/login").text)
        assert login, "no csrf_token on the sign-in page"
        answer = client.post("/console/login", data={
            "username": "fuzz-admin", "password": PASSWORD, "csrf_token": login.group(1)})
        assert answer.status_code == 303, answer.text[:500]
        yield client, seeded


def csrf_of(client: TestClient) -> str:
    found = CSRF.search(client.get("/console").text)
    assert found, "signed out: no csrf_token on /console"
    return found.group(1)


def path_values(seeded: Seeded, path: str, name: str) -> list[str]:
    if name == "action" and path.startswith("/console/promotions"):
        return ["start", "end"]
    if name == "action":
        return ["enable", "pause", "archive"]
    return seeded.for_parameter(path, name)


hostile = st.one_of(
    st.text(max_size=60), st.text(max_size=8).map(lambda t: f"{t}\x00{t}"),
    st.integers(-(10**20), 10**20).map(str), st.sampled_from([
        "", " ", "0", "-1", "1e400", "NaN", "9999-12-31T23:59:59", "0001-01-01",
        "2026-11-26T10:00:00+08:00", "true", "on", "{{ 7*7 }}", "<script>x</script>",
        "=HYPERLINK(\"http://evil.example/\")", "../../etc/passwd", "a" * 5000, "[0..10]",
        "pinned", "current", "enabled", "paused", "resolved", "shopee", "DIAPER-L", "NB",
        "order.total", "gt", "order.hold", "order.placed", "event"]))


def form_strategy(route: APIRoute, pool: list[str], seeded: Seeded) -> Any:
    declared = [p.alias or p.name for p in route.dependant.body_params]
    real = [v for values in seeded.ids.values() for v in values]
    values = st.one_of(hostile, st.sampled_from(real))
    names = st.one_of(st.sampled_from(pool), st.text(max_size=20))
    return st.tuples(
        st.fixed_dictionaries({}, optional={n: st.lists(values, min_size=1, max_size=3)
                                            for n in declared}),
        st.dictionaries(names, st.lists(values, min_size=1, max_size=2), max_size=8),
        st.booleans())


def fields_on_pages(client: TestClient, seeded: Seeded) -> list[str]:
    pages = list(FORM_PAGES)
    pages += [f"/console/rules/{r}" for r in seeded.ids["rule_id"]]
    pages += [f"/console/orders/{o}" for o in seeded.ids["order_id"][:2]]
    pages += ["/console/decision-tables/return_centres", "/console/inventory/sources/NB"]
    names: set[str] = set()
    for page in pages:
        names |= set(FIELD.findall(client.get(page).text))
    names.discard("csrf_token")
    return sorted(names)


def test_no_console_form_post_gets_a_server_error(
        signed_in: tuple[TestClient, Seeded], hub: Hub, test_seed: int) -> None:
    client, seeded = signed_in
    routes = console_posts(client.app)  # type: ignore[arg-type]
    assert len(routes) >= 25, [r.path for r in routes]
    pool = fields_on_pages(client, seeded)
    assert len(pool) > 20, pool
    token = csrf_of(client)
    statuses: dict[str, Counter[int]] = {}
    failures: dict[str, str] = {}
    for route in routes:
        seen = statuses.setdefault(route.path, Counter())
        params = re.findall(r"{(\w+)}", route.path)
        paths = st.fixed_dictionaries({
            n: st.one_of(st.sampled_from(path_values(seeded, route.path, n) or ["x"]),
                         st.text(st.characters(codec="ascii", categories=("L", "N")),
                                 min_size=1, max_size=12))
            for n in params})
        try:
            post_forms(client, route.path, paths, form_strategy(route, pool, seeded), token,
                       seen, test_seed)
        except AssertionError as failure:
            failures[route.path] = str(failure)[:2000]
        if client.get("/console").status_code != 200:  # a post that signed us out: sign in
            pytest.fail(f"{route.path} ended the session")
    print("statuses per console route:", {k: dict(v) for k, v in statuses.items()})
    assert not failures, "\n\n".join(f"{path}: {text}" for path, text in failures.items())
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 303


def post_forms(client: TestClient, path: str, paths: Any, forms: Any, token: str,
               seen: Counter[int], run_seed: int) -> None:
    @seed(run_seed)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(where=paths, form=forms)
    def post(where: dict[str, str], form: tuple[dict[str, Any], dict[str, Any], bool]) -> None:
        declared, extra, htmx = form
        data = {**extra, **declared, "csrf_token": token}
        headers = {"HX-Request": "true"} if htmx else {}
        url = path.format(**where)
        answer = client.post(url, data=data, headers=headers)
        seen[answer.status_code] += 1
        assert answer.status_code < 500, (
            f"POST {url} {data!r} -> {answer.status_code}: {answer.text[:800]}")

    post()


def test_trying_a_table_without_htmx_renders_the_page(
        signed_in: tuple[TestClient, Seeded]) -> None:
    """Found by the fuzz: the full-page answer passed the table's name twice (a 500)."""
    client, _seeded = signed_in
    answer = client.post("/console/decision-tables/return_centres/try", data={
        "path": "event.data.outlet_code", "value": "GZ01", "csrf_token": csrf_of(client)})
    assert answer.status_code == 200, answer.text[:500]
    assert "return_centres" in answer.text


def test_a_nul_in_the_sign_in_name_is_a_4xx(hub: Hub) -> None:
    """Found by the fuzz: PostgreSQL cannot store a NUL, so it was a 500 there."""
    with TestClient(create_app(hub), follow_redirects=False,
                    raise_server_exceptions=False) as client:
        login = CSRF.search(client.get("/console/login").text)
        assert login
        answer = client.post("/console/login", data={
            "username": "ad\x00min", "password": "x", "csrf_token": login.group(1)})
    assert answer.status_code == 422, answer.status_code
    assert "username" in answer.text


@pytest.mark.parametrize("htmx", [False, True])
def test_a_nul_in_a_console_form_is_a_4xx(signed_in: tuple[TestClient, Seeded],
                                          htmx: bool) -> None:
    """Refused before any route runs, also when the token comes in the header (HTMX)."""
    client, _seeded = signed_in
    token = csrf_of(client)
    headers = {"HX-Request": "true", "X-CSRF-Token": token} if htmx else {}
    with TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies) as other:
        answer = other.post("/console/rule-runs/replay", data={
            "run_ids": "\x00", "csrf_token": token}, headers=headers, follow_redirects=False)
    assert answer.status_code == 422, answer.status_code
    assert "run_ids" in answer.text


@pytest.mark.parametrize("where", ["/try", "/download.xlsx?version=2147483648",
                                   "?version=2147483648", "?start_from=99999999999"])
def test_a_table_version_beyond_32_bits_is_a_4xx(signed_in: tuple[TestClient, Seeded],
                                                 where: str) -> None:
    """Found by the fuzz: versions past 2**31 - 1 reached the database (a 500)."""
    client, _seeded = signed_in
    url = f"/console/decision-tables/return_centres{where}"
    answer = (client.post(url, data={"version": "2147483648", "path": "event.data.outlet_code",
                                     "value": "GZ01", "csrf_token": csrf_of(client)})
              if where == "/try" else client.get(url))
    assert answer.status_code == 422, answer.text[:300]
