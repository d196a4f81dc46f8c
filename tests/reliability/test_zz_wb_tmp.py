from reliability.test_api_fuzz import *  # noqa
from reliability import test_api_fuzz as base


def test_exceptions_fuzz(app, tokens, seeded, test_seed):
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=admin)
    bodies, queries = valid_bodies(seeded), valid_queries()
    failures, statuses = {}, {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/exceptions"):
            continue
        seen = statuses.setdefault(operation.label, Counter())
        try:
            base.fuzz(base.cases_for(operation, seeded, bodies, queries), admin, seen, test_seed)
        except Exception as failure:  # noqa
            failures[operation.label] = failure
    print(statuses)
    assert not failures, "\n\n".join(f"{l}:\n{f}" for l, f in failures.items())
    assert len(statuses) == 7
    for label, seen in statuses.items():
        share = sum(n for s, n in seen.items() if 200 <= s < 300) / max(seen.total(), 1)
        assert share >= 0.2, (label, dict(seen))
