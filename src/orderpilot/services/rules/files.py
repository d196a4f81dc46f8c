"""Importing rules from files: all checked first, then applied."""

from __future__ import annotations

from pathlib import Path

from orderpilot.adapters.rule_files import read_rule_file
from orderpilot.domain.rules.definition import RuleDefinition
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.services.rules.authoring import KEY, STATUSES, RulesService

DEFINITION_KEYS = ("name", "description", "trigger", "conditions", "expression", "actions")


def import_rule_files(service: RulesService, paths: list[Path], by: str, *,
                      dry_run: bool = False) -> list[tuple[str, str]]:
    """Returns (key, created|updated|unchanged) per file; raises RuleFileError naming the
    file, line and field of the first problem, before anything is written."""
    checked: list[tuple[str, str | None, RuleDefinition]] = []
    seen: dict[str, Path] = {}
    for path in paths:
        rule_file = read_rule_file(path)
        data = rule_file.data
        key = data.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise rule_file.error("key", "lowercase letters, digits, - and _ (2-100)")
        if key in seen:
            raise rule_file.error("key", f"{key} is also the key in {seen[key].name}")
        seen[key] = path
        status = data.get("status")
        if status is not None and status not in (*STATUSES, "draft"):
            raise rule_file.error("status", f"one of {', '.join(STATUSES)}")
        raw: dict[str, object] = {k: data[k] for k in DEFINITION_KEYS if k in data}
        try:
            definition = service.validate(raw)
        except RuleInvalid as error:
            first = error.problems[0]
            raise rule_file.error(first.field, first.message) from error
        checked.append((key, status, definition))
    plan = []
    with service.uow_factory() as uow:
        existing = {r.key: r for r in uow.rules.listing()}
        current = {r.key: uow.rules.version(r.id, r.published_version)
                   for r in existing.values() if r.published_version}
    for key, status, definition in checked:
        old = current.get(key)
        if key not in existing:
            what = "created"
        elif old is None or old.definition != definition.dump():
            what = "updated"
        else:
            what = "unchanged"
        plan.append((key, what))
        if dry_run:
            continue
        if what == "created":
            rule_id = service.create(definition.dump(), by, key=key)
        else:
            rule_id = existing[key].id
            if what == "updated":
                service.save_draft(rule_id, definition.dump(), by)
        if what != "unchanged":
            service.publish(rule_id, by, "imported from file",
                            activate=status in (None, "enabled"))
        if status in STATUSES:
            service.set_status(rule_id, status, by)
    return plan
