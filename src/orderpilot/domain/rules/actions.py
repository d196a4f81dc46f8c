"""What a rule action is (``ActionType``: names, parameters, outputs, flags) and how a step's
parameters are checked at save time.

Internal actions change the hub's own data in one transaction with the step's record, so they
happen exactly once. External ones call another system outside any transaction, carrying an
idempotency key the receiving side uses to drop a repeat.

The domain holds no list of actions or connectors: each action's module
(services/rules/actions/) defines its ActionType, and validation is told which actions and
named HTTP connectors the hub offers through ``Checks``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from orderpilot.domain.rules.problems import Problems

TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Param:
    name: str
    # text | template | code | int | number | bool | enum | tags | mapping | json | connector
    # | table | sms_template. connector: a named HTTP connector, one of Checks.connectors;
    # table: the name of a decision table, one of Checks.tables; sms_template: the code of a
    # registered SMS template, whose parameters the action's mapping parameter gives.
    kind: str
    zh: str
    en: str
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    # Filled from the order by its default template: the builder shows it, nobody types it.
    prefilled: bool = False


@dataclass(frozen=True)
class MessageKind:
    """An action that sends a message to a person: how the Messages page names its kind."""

    zh: str
    en: str


@dataclass(frozen=True)
class Output:
    """A declared output of an action, named for people (a bool shows as 是/否)."""

    name: str
    type: str  # bool | text | number
    zh: str
    en: str


@dataclass(frozen=True)
class Outcome:
    """A business outcome an action declares in its answer (核验不通过: ``qualified`` is
    false), distinct from a transport failure; a step may branch on it (``on_outcome``)."""

    id: str
    zh: str
    en: str
    output: str
    equals: Any

    def holds(self, outputs: Mapping[str, Any] | None) -> bool:
        return outputs is not None and self.output in outputs \
            and outputs[self.output] == self.equals and \
            type(outputs[self.output]) is type(self.equals)


@dataclass(frozen=True)
class ActionType:
    """What a rule action is, as data: its names, parameters, outputs and flags. Each action's
    module (services/rules/actions/) holds one; the hub's action table gathers them."""

    id: str
    zh: str
    en: str
    params: tuple[Param, ...]
    external: bool  # calls another system
    internal: bool  # changes the hub's own data
    outputs: dict[str, str] = field(default_factory=dict)  # name -> type, for later `if`s
    # Hybrid actions (an internal effect, then optionally an external push): the bool
    # parameter that says whether to push.
    push_flag: str | None = None
    message: MessageKind | None = None  # sends a message to a person (the Messages page)
    default_step_id: str = "step"  # the id the console gives a new step of this type
    # A mapping parameter naming response paths that become the step's outputs.
    output_param: str | None = None
    # Declared by an integration: its name, its outputs named for people, its outcomes.
    integration: str | None = None
    output_fields: tuple[Output, ...] = ()
    outcomes: tuple[Outcome, ...] = ()

    @property
    def reports_refusals(self) -> bool:
        """It answers a business refusal in its output (not as a failure)."""
        return bool(self.outcomes)

    def outcome(self, outcome_id: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == outcome_id), None)

    def pushes(self, params: Mapping[str, Any]) -> bool:
        """Whether a step with these params calls the outside system."""
        if self.push_flag is None:
            return self.external
        default = next(p.default for p in self.params if p.name == self.push_flag)
        return bool(params.get(self.push_flag, default))


def param(name: str, kind: str, zh: str, en: str, **kw: Any) -> Param:
    return Param(name, kind, zh, en, **kw)


# A check of one action's params beyond their kinds, when a rule is saved (strict checks
# only): (params, where, problems, checks).
SpecificCheck = Callable[[dict[str, Any], str, Problems, "Checks"], None]


@dataclass
class Checks:
    """What validation needs to know about the hub; services provide it."""

    sms_templates: dict[str, tuple[str, ...]]  # code -> parameter names
    tables: dict[str, tuple[str, ...]]  # name -> output fields
    check_url: Callable[[str], str | None]  # a message when the host is not allowed
    check_expression: Callable[[str], str | None]  # a message when it does not parse
    strict: bool = True  # False when loading a stored version: the register may have moved on
    connectors: frozenset[str] = frozenset()  # named HTTP connectors the outbound side offers
    # The actions the hub offers (its action table) and their save-time checks.
    actions: Mapping[str, ActionType] = field(default_factory=dict)
    action_checks: Mapping[str, SpecificCheck] = field(default_factory=dict)


def check_params(action: str, params: Any, where: str, problems: Problems,
                 checks: Checks) -> dict[str, Any]:
    kind = checks.actions[action]
    if not isinstance(params, dict):
        problems.add(where, "params must be an object", "params 应为对象")
        return {}
    known = {p.name: p for p in kind.params}
    for name in set(params) - set(known):
        problems.add(f"{where}.{name}", f"{action} has no parameter {name!r}; it takes "
                                        f"{', '.join(known)}",
                     f"{action} 没有参数 {name!r}；可用参数：{'、'.join(known)}")
    clean: dict[str, Any] = {}
    for name, param in known.items():
        if name not in params or params[name] in (None, ""):
            if param.required:
                problems.add(f"{where}.{name}", f"{param.en} is required", f"{param.zh}必填")
            elif param.default is not None:
                clean[name] = param.default
            continue
        clean[name] = _check_param(param, params[name], f"{where}.{name}", problems, checks)
    specific = checks.action_checks.get(action)
    if specific is not None and checks.strict:
        specific(clean, where, problems, checks)
    return clean


def _check_param(param: Param, value: Any, where: str, problems: Problems,
                 checks: Checks) -> Any:
    kind = param.kind
    if kind in ("text", "template", "code", "connector", "table", "sms_template"):
        if not isinstance(value, str) or len(value) > 2000:
            problems.add(where, "needs text (at most 2000 characters)",
                         "需要文本（最多 2000 个字符）")
            return ""
        if kind in ("code", "table") and not CODE.match(value):
            problems.add(where, "lowercase letters, digits and _, 2-64 characters",
                         "小写字母、数字和 _，2-64 个字符")
        if kind == "table" and checks.strict and value not in checks.tables:
            problems.add(where, f"no decision table named {value!r}",
                         f"没有名为 {value!r} 的决策表")
        if kind == "template":
            check_template(value, where, problems, checks)
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 43200:
            problems.add(where, "a whole number between 1 and 43200", "应为 1 到 43200 之间的整数")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value <= 30:
            problems.add(where, "a number of seconds between 0 and 30", "应为 0 到 30 之间的秒数")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            problems.add(where, "true or false", "应为 true 或 false")
        return bool(value)
    if kind == "enum":
        if value not in param.choices:
            problems.add(where, f"one of {', '.join(param.choices)}",
                         f"应为以下之一：{'、'.join(param.choices)}")
        return value
    if kind == "tags":
        if not isinstance(value, list) or not value or not all(
                isinstance(t, str) and 0 < len(t.strip()) <= 40 for t in value):
            problems.add(where, "a list of tags of 1 to 40 characters",
                         "应为标签列表，每个标签 1 到 40 个字符")
            return []
        return [t.strip() for t in value]
    if kind == "mapping":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in value.items()):
            problems.add(where, "an object of names to text values", "应为名称到文本值的对象")
            return {}
        for k, v in value.items():
            check_template(v, f"{where}.{k}", problems, checks)
        return value
    _check_json(value, where, problems, checks, 0)
    return value


def _check_json(value: Any, where: str, problems: Problems, checks: Checks, depth: int) -> None:
    if depth > 8:
        problems.add(where, "the body nests too deep", "请求体嵌套过深")
    elif isinstance(value, str):
        check_template(value, where, problems, checks)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_json(v, f"{where}.{k}", problems, checks, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]", problems, checks, depth + 1)


def check_template(text: str, where: str, problems: Problems, checks: Checks) -> None:
    for match in TEMPLATE.finditer(text):
        message = checks.check_expression(match.group(1).strip())
        if message:
            problems.add(where, f"{{{{ {match.group(1).strip()} }}}}: {message}",
                         f"{{{{ {match.group(1).strip()} }}}}：表达式无效：{message}")


def check_url(url: str, where: str, problems: Problems, checks: Checks) -> None:
    """The URL's scheme, host and port are fixed text on the allow-list; only the path and
    query may hold templates (the call is checked again, rendered, when it is made)."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError as error:  # "http://[::1" and the like
        problems.add(where, f"not a valid URL: {error}", f"不是有效的网址：{error}")
        return
    if "{{" in netloc or "{%" in netloc:
        problems.add(where, "the host part of the URL may not be a template",
                     "网址的主机部分不能使用模板")
        return
    message = checks.check_url(TEMPLATE.sub("x", url))
    if message:
        problems.add(where, message, f"目标地址不被允许：{message}")
