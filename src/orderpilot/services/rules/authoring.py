"""Managing rules: drafts, publishing immutable versions, enable / pause / archive, rollback,
templates, SMS templates. Every change leaves an audit entry."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orderpilot.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    OrderpilotError,
    RuleFileError,
)
from orderpilot.domain.events import new_id
from orderpilot.domain.messages import coded_note
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import RuleDefinition, diff, parse_definition, warnings
from orderpilot.domain.rules.overlap import RuleOverlap, shared_effects
from orderpilot.domain.rules.records import StoredRule
from orderpilot.domain.rules.templates import DEFAULT_SMS_TEMPLATES, TEMPLATE_BY_ID, RuleTemplate
from orderpilot.services import audit_trail
from orderpilot.services.rules.actions import ActionTable
from orderpilot.services.rules.book import ActiveRule, RuleBook
from orderpilot.services.rules.triggers import published, schedule_next
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

KEY = re.compile(r"^[a-z0-9][a-z0-9\-_]{1,99}$")
STATUSES = ("enabled", "paused", "archived")
SMS_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class RuleFile(Protocol):
    """One rule file as read (adapters/rule_files.py): its mapping, and errors that name the
    file and the line of a field."""

    @property
    def data(self) -> dict[str, object]: ...

    def error(self, field: str | None, message: str, *,
              zh: str | None = None) -> RuleFileError: ...


RuleFileReader = Callable[[Path], RuleFile]


@dataclass
class RulesService:
    uow_factory: UowFactory
    clock: Clock
    book: RuleBook
    check_url: Callable[[str], str | None]
    table_outputs: Callable[[], dict[str, tuple[str, ...]]]
    # read-only snapshots for validating, trying and backtesting: they never hold the write lock
    reader: UowFactory | None = None
    rule_files: RuleFileReader | None = None  # reads one YAML rule file (import_rule_files)
    connectors: frozenset[str] = frozenset()  # named HTTP connectors (the outbound side's)
    actions: ActionTable = field(kw_only=True)  # the hub's action table

    def read(self) -> UnitOfWork:
        return (self.reader or self.uow_factory)()

    # -- validation ------------------------------------------------------------------------

    def checks(self, uow: UnitOfWork) -> Checks:
        templates = {r.code: tuple(r.params) for r in uow.sms_templates.all()}
        return Checks(templates, self.table_outputs(), self.check_url, self.book.engine.check,
                      connectors=self.connectors, actions=self.actions.types(),
                      action_checks=self.actions.save_checks())

    def validate(self, raw: object) -> RuleDefinition:
        with self.read() as uow:
            return parse_definition(raw, self.checks(uow))

    def warnings(self, definition: RuleDefinition | object) -> list[dict[str, object]]:
        """What the rule may do that its author likely did not mean (not errors): each as
        {"code", "field", "step", "message", "message_zh"}."""
        parsed = definition if isinstance(definition, RuleDefinition) \
            else self.validate(definition)
        return [w.dump() for w in warnings(parsed, self.actions.types())]

    def overlaps(self, rule_id: str | None, definition: RuleDefinition | None = None
                 ) -> list[dict[str, object]]:
        """The other published rules (enabled or paused) that would act on the same orders
        with the same effects as RULE_ID's draft (or DEFINITION)."""
        with self.read() as uow:
            if definition is None:
                if rule_id is None:
                    raise ValueError("give a rule or a definition")
                row = self._row(uow, rule_id)
                if row.draft is None:
                    return []
                definition = parse_definition(row.draft, self.checks(uow))
            return self._overlaps(uow, rule_id, definition)

    def _overlaps(self, uow: UnitOfWork, rule_id: str | None,
                  definition: RuleDefinition) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        types = self.actions.types()
        for other in uow.rules.listing():
            if other.id == rule_id or other.status not in ("enabled", "paused") \
                    or other.published_version is None:
                continue
            version = published(uow, other.id, other.published_version)
            try:
                theirs = self.book.definition(other.id, other.published_version,
                                              version.definition)
            except OrderpilotError:  # a stored version today's hub cannot read runs no more
                continue
            shared = shared_effects(definition, theirs)
            if not shared:
                continue
            effects_en = ", ".join(types[e.type].en if e.type in types else e.type
                                   for e in shared)
            effects_zh = "、".join(types[e.type].zh if e.type in types else e.type
                                  for e in shared)
            found.append({
                "field": f"rules.{other.key}", "rule_id": other.id, "key": other.key,
                "name": other.name, "status": other.status,
                "version": other.published_version,
                "shared_effects": [e.dump(types) for e in shared],
                "message": f"published rule {other.name!r} ({other.key}) has the same trigger, "
                           f"conditions that can both hold, and would also: {effects_en}",
                "message_zh": f"已发布的规则“{other.name}”（{other.key}）触发条件相同、条件可能"
                              f"同时成立，也会执行：{effects_zh}"})
        return found

    def _check_overlap(self, uow: UnitOfWork, rule_id: str | None, name: str,
                       definition: RuleDefinition, confirm: bool) -> list[dict[str, object]]:
        found = self._overlaps(uow, rule_id, definition)
        if found and not confirm:
            raise RuleOverlap(name, found)
        return found

    # -- lifecycle of a rule -----------------------------------------------------------------

    def create(self, raw: object, by: str, key: str | None = None,
               template_id: str | None = None) -> str:
        definition = self.validate(raw)
        key = key or _slug(definition.name)
        if not KEY.match(key):
            raise InvalidInput("key: lowercase letters, digits, - and _, 2-100 characters",
                               field="key",
                               zh="key：小写字母、数字、- 和 _，2-100 个字符")
        now = self.clock()
        rule_id = new_id()
        with self.uow_factory() as uow:
            if uow.rules.get_by_key(key) is not None:
                raise Conflict(f"a rule with key {key!r} exists already", field="key",
                               zh=f"key 为 {key!r} 的规则已存在")
            uow.rules.add({"id": rule_id, "key": key, "name": definition.name,
                           "status": "draft", "draft": definition.dump(),
                           "published_version": None, "template_id": template_id,
                           "created_by": by, "created_at": now, "updated_at": now,
                           "row_version": 0})
            uow.rules.audit(rule_id, "created", by, now, {"template": template_id})
            audit_trail.record(uow, self.clock, "rule.create", subject_type="rule",
                               subject_id=rule_id, after={"key": key, "name": definition.name,
                                                          "status": "draft"},
                               detail={"template": template_id} if template_id else None)
        return rule_id

    def save_draft(self, rule_id: str, raw: object, by: str) -> None:
        definition = self.validate(raw)

        def attempt() -> None:
            with self.uow_factory() as uow:
                row = self._row(uow, rule_id)
                if row.status == "archived":
                    raise Conflict("an archived rule cannot be edited", field="status",
                                   zh="已归档的规则不能编辑")
                uow.rules.update(rule_id, row.row_version, self.clock(), draft=definition.dump(),
                                 name=definition.name)
                uow.rules.audit(rule_id, "draft_saved", by, self.clock(), {})
                audit_trail.record(uow, self.clock, "rule.draft_save", subject_type="rule",
                                   subject_id=rule_id, after={"name": definition.name})

        retrying(attempt)
        self.book.invalidate()

    def publish(self, rule_id: str, by: str, reason: str = "", *, activate: bool = True,
                confirm_overlap: bool = False) -> int:
        """Freeze the draft as a new immutable version; the rule then runs on it. A rule
        published for the first time is enabled (or paused, with ``activate=False``).

        Another published rule that would act on the same orders with the same effects
        stops the publish with RuleOverlap, unless CONFIRM_OVERLAP ("keep both"), which the
        audit trail keeps."""
        with self.uow_factory() as uow:
            row = self._row(uow, rule_id)
            if row.draft is None:
                raise Conflict("there is no draft to publish", field="draft",
                               zh="没有可发布的草稿")
            definition = parse_definition(row.draft, self.checks(uow))
            overlaps = self._check_overlap(uow, row.id, definition.name, definition,
                                           confirm_overlap)
            if overlaps:
                uow.rules.audit(row.id, "overlap_confirmed", by, self.clock(), {
                    "overlaps": [{k: o[k] for k in ("rule_id", "key", "name")}
                                 for o in overlaps]})
            version = self._add_version(uow, row, definition.dump(), by, reason)
            if row.status == "draft":
                status = "enabled" if activate else "paused"
            else:
                status = row.status
            uow.rules.update(rule_id, row.row_version, self.clock(), draft=None,
                             published_version=version, status=status, name=definition.name,
                             strikes=0)  # a new version starts with a clean record
            self._arm_schedule(uow, row.id, row.key, version, definition, status)
            audit_trail.record(uow, self.clock, "rule.publish", subject_type="rule",
                               subject_id=rule_id,
                               before={"version": row.published_version, "status": row.status},
                               after={"version": version, "status": status},
                               detail={"reason": reason, "overlap_confirmed": bool(overlaps)})
        self.book.invalidate()
        return version

    def rollback(self, rule_id: str, version: int, by: str, reason: str = "") -> int:
        """Publish an earlier version again, as a new version (history stays linear)."""
        with self.uow_factory() as uow:
            row = self._row(uow, rule_id)
            old = uow.rules.version(rule_id, version)
            if old is None:
                raise NotFound(f"rule {row.key} has no version {version}", field="version",
                               zh=f"规则 {row.key} 没有版本 {version}")
            new = self._add_version(uow, row, old.definition, by,
                                    reason or f"rollback to version {version}")
            uow.rules.update(rule_id, row.row_version, self.clock(), published_version=new,
                             draft=None, name=old.definition.get("name", row.name), strikes=0)
            uow.rules.audit(rule_id, "rolled_back", by, self.clock(),
                            {"to_version": version, "new_version": new})
            definition = self.book.definition(rule_id, new, old.definition)
            self._arm_schedule(uow, row.id, row.key, new, definition, row.status)
            audit_trail.record(uow, self.clock, "rule.rollback", subject_type="rule",
                               subject_id=rule_id, before={"version": row.published_version},
                               after={"version": new}, detail={"to_version": version,
                                                               "reason": reason})
        self.book.invalidate()
        return new

    def set_status(self, rule_id: str, status: str, by: str) -> None:
        if status not in STATUSES:
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status",
                               zh=f"status 应为以下之一：{'、'.join(STATUSES)}")
        with self.uow_factory() as uow:
            row = self._row(uow, rule_id)
            if status == "enabled" and row.published_version is None:
                raise Conflict("publish the rule before enabling it", field="status",
                               zh="请先发布规则再启用")
            if row.status == status:
                return
            strikes = {"strikes": 0} if status == "enabled" else {}  # re-enabled: a new chance
            uow.rules.update(rule_id, row.row_version, self.clock(), status=status, **strikes)
            uow.rules.audit(rule_id, status, by, self.clock(), {"from": row.status})
            audit_trail.record(uow, self.clock, "rule.status", subject_type="rule",
                               subject_id=rule_id, before={"status": row.status},
                               after={"status": status})
            if status == "enabled" and row.published_version is not None:  # checked above
                version = published(uow, rule_id, row.published_version)
                definition = self.book.definition(rule_id, row.published_version,
                                                  version.definition)
                self._arm_schedule(uow, row.id, row.key, row.published_version, definition,
                                   status)
        self.book.invalidate()

    def _add_version(self, uow: UnitOfWork, row: StoredRule, definition: dict[str, object],
                     by: str, reason: str) -> int:
        now = self.clock()
        previous = uow.rules.version(row.id, row.published_version) \
            if row.published_version else None
        number = int(uow.rules.latest_version_number(row.id)) + 1
        changes = diff(previous.definition if previous else None, definition)
        uow.rules.add_version({"rule_id": row.id, "version": number, "definition": definition,
                               "published_by": by, "published_at": now,
                               "reason": reason[:1000], "diff": changes})
        uow.rules.audit(row.id, "published", by, now,
                        {"version": number, "reason": reason[:1000], "changes": len(changes)})
        return number

    def _arm_schedule(self, uow: UnitOfWork, rule_id: str, key: str, version: int,
                      definition: RuleDefinition, status: str) -> None:
        if status == "enabled" and definition.trigger.kind == "schedule":
            now = self.clock()
            schedule_next(uow, ActiveRule(rule_id, key, definition.name, version, definition),
                          now, now)

    def _row(self, uow: UnitOfWork, rule_id: str) -> StoredRule:
        row = uow.rules.get(rule_id) or uow.rules.get_by_key(rule_id)
        if row is None:
            raise NotFound.coded("rule.not_found", field="rule_id", rule_id=rule_id)
        return row

    # -- templates -------------------------------------------------------------------------

    def install_template(self, template_id: str, by: str, *, enable: bool = False,
                         key: str | None = None, confirm_overlap: bool = False) -> str:
        """The template with its default answers, published (enabled with ENABLE)."""
        return self.create_from_template(template_id, {}, by, key=key, publish=True,
                                         enable=enable, confirm_overlap=confirm_overlap)

    def create_from_template(self, template_id: str, answers: dict[str, object], by: str, *,
                             key: str | None = None, name: str | None = None,
                             publish: bool = False, enable: bool = False,
                             confirm_overlap: bool = False) -> str:
        """A rule from a template and the answers to its blanks: a draft, or published
        (enabled with ENABLE, else paused). An overlap is refused before anything is made."""
        template = _template(template_id)
        raw = template.fill(answers)
        if name is not None:
            if not 0 < len(name.strip()) <= 200:
                raise InvalidInput("name: 1 to 200 characters", field="name",
                                   zh="名称：1 到 200 个字符")
            raw["name"] = name.strip()
        for sms in template.sms:
            self.ensure_sms_template(sms.code, sms.provider, sms.sign_name, sms.text)
        definition = self.validate(raw)
        if publish:
            with self.read() as uow:
                self._check_overlap(uow, None, definition.name, definition, confirm_overlap)
        with self.uow_factory() as uow:
            taken = {r.key for r in uow.rules.listing()}
        key = key or next(k for k in _candidates(template.id) if k not in taken)
        rule_id = self.create(raw, by, key=key, template_id=template.id)
        if publish:
            self.publish(rule_id, by, coded_note("rule.installed_from_template",
                                                 template=template.id), activate=enable,
                         confirm_overlap=confirm_overlap)
        return rule_id

    def ensure_sms_template(self, code: str, provider: str, sign_name: str, text: str) -> None:
        with self.uow_factory() as uow:
            if uow.sms_templates.get(code) is None:
                self._put_sms(uow, code, provider, sign_name, text)

    def put_sms_template(self, code: str, provider: str, sign_name: str, text: str) -> None:
        with self.uow_factory() as uow:
            self._put_sms(uow, code, provider, sign_name, text)

    def _put_sms(self, uow: UnitOfWork, code: str, provider: str, sign_name: str,
                 text: str) -> None:
        if not re.match(r"^[A-Za-z0-9_]{2,64}$", code):
            raise InvalidInput("code: letters, digits and _ (as the provider issued it)",
                               field="code",
                               zh="code：字母、数字和 _（与服务商下发的一致）")
        if provider not in ("aliyun", "tencent"):
            raise InvalidInput("provider is aliyun or tencent", field="provider",
                               zh="provider 应为 aliyun 或 tencent")
        if not 0 < len(sign_name) <= 64:
            raise InvalidInput("sign_name: 1-64 characters", field="sign_name",
                               zh="sign_name：1-64 个字符")
        if not 0 < len(text) <= 500:
            raise InvalidInput("text: 1-500 characters", field="text",
                               zh="text：1-500 个字符")
        params = list(dict.fromkeys(SMS_PARAM.findall(text)))
        uow.sms_templates.put({"code": code, "provider": provider, "sign_name": sign_name,
                               "text": text, "params": params, "created_at": self.clock()})

    def ensure_default_sms_templates(self) -> None:
        for sms in DEFAULT_SMS_TEMPLATES:
            self.ensure_sms_template(sms.code, sms.provider, sms.sign_name, sms.text)


def _template(template_id: str) -> RuleTemplate:
    template = TEMPLATE_BY_ID.get(template_id)
    if template is None:
        known = ", ".join(TEMPLATE_BY_ID)
        raise NotFound(f"no rule template {template_id!r}; known: {known}",
                       field="template_id", zh=f"没有规则模板 {template_id!r}；可用：{known}")
    return template


def _slug(name: str) -> str:
    ascii_part = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (ascii_part or "rule")[:60] + "-" + new_id()[:6]


def _candidates(base: str) -> Iterator[str]:
    yield base
    n = 2
    while True:
        yield f"{base}-{n}"
        n += 1
