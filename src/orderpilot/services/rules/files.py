"""Importing rules from files: all checked first, then applied."""

from __future__ import annotations

from pathlib import Path

from orderpilot.domain.rules.definition import RuleDefinition
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.services.rules.authoring import KEY, STATUSES, RulesService

DEFINITION_KEYS = ("name", "description", "trigger", "conditions", "expression", "actions")


def import_rule_files(service: RulesService, paths: list[Path], by: str, *,
                      dry_run: bool = False) -> list[tuple[str, str]]:
    """Returns (key, created|updated|unchanged) per file; raises RuleFileError naming the
    file, line and field of the first problem, before anything is written. The files are read
    with the service's ``rule_files`` reader (adapters/rule_files.py, given by bootstrap)."""
    checked: list[tuple[str, str | None, RuleDefinition]] = []
    seen: dict[str, Path] = {}
    read_rule_file = service.rule_files
    if read_rule_file is None:
        raise RuntimeError("the rules service was built without a rule-file reader")
    for path in paths:
        rule_file = read_rule_file(path)
        data = rule_file.data
        key = data.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise rule_file.error("key", "lowercase letters, digits, - and _ (2-100)",
                                  zh="小写字母、数字、- 和 _（2-100 个字符）")
        if key in seen:
            raise rule_file.error("key", f"{key} is also the key in {seen[key].name}",
                                  zh=f"{key} 也是 {seen[key].name} 的 key")
        seen[key] = path
        status = data.get("status")
        if status is not None and status not in (*STATUSES, "draft"):
            raise rule_file.error("status", f"one of {', '.join(STATUSES)}",
                                  zh=f"应为以下之一：{'、'.join(STATUSES)}")
        raw: dict[str, object] = {k: data[k] for k in DEFINITION_KEYS if k in data}
        try:
            definition = service.validate(raw)
        except RuleInvalid as error:
            first = error.problems[0]
            raise rule_file.error(first.field, first.message, zh=first.message_zh) from error
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
        if what != "unchanged":  # files are reviewed as a set: overlaps among them are meant
            service.publish(rule_id, by, "imported from file",
                            activate=status in (None, "enabled"), confirm_overlap=True)
        if status in STATUSES:
            service.set_status(rule_id, status, by)
    return plan
