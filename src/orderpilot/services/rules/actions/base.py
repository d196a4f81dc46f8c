"""What every rule action module builds on: the step being carried out (``StepCall``), the
outside systems as the runner sees them (``Outside``), the shapes of an action's parts, and
``RuleAction``, which holds one action's definition, effect, outside call, look-up and checks.

Internal effects run inside the caller's unit of work (so they commit together with the
step's record: exactly once); outside calls go through the injected connectors, outside any
transaction, with an idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from orderpilot.domain.decision_tables import TableResult
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.order import Order
from orderpilot.domain.rules.actions import ActionType, SpecificCheck
from orderpilot.domain.rules.definition import Step
from orderpilot.services.unit_of_work import UnitOfWork

# A step's params once its templates are filled, and what a step gives later steps: JSON.
Params = dict[str, Any]
Output = dict[str, Any]
SmsProviderName = Literal["aliyun", "tencent"]
T = TypeVar("T")


class Answer(Protocol):
    """What an outside call returned (adapters' CallResult)."""

    @property
    def request(self) -> dict[str, Any]: ...
    @property
    def response(self) -> Any: ...
    @property
    def status_code(self) -> int | None: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def output(self) -> dict[str, Any]: ...
    @property
    def stored_response(self) -> Any: ...


class Found(Protocol):
    """What asking a provider for a call by its key found (adapters' SentRecord)."""

    @property
    def found(self) -> bool: ...
    @property
    def request(self) -> dict[str, Any]: ...
    @property
    def response(self) -> Any: ...
    @property
    def latency_ms(self) -> float: ...
    @property
    def output(self) -> dict[str, Any]: ...


class Outside(Protocol):
    """The connectors (adapters/connectors); each call returns an Answer or raises
    TransientError / PermanentError."""

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", headers: dict[str, str] | None = None,
                  json_body: Any = None, timeout_s: float | None = None,
                  hmac_secret: str | None = None, idempotency_key: str) -> Answer: ...
    def send_sms(self, provider: SmsProviderName, phone: str, template_code: str,
                 params: dict[str, str], sign_name: str, idempotency_key: str) -> Answer: ...
    def send_email(self, to: str, subject: str, body_text: str,
                   idempotency_key: str) -> Answer: ...
    def notify_dingtalk(self, text: str, idempotency_key: str) -> Answer: ...
    def notify_wecom(self, text: str, idempotency_key: str) -> Answer: ...
    def helpdesk_create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> Answer: ...
    def crm_push_tags(self, phone: str, tags: list[str], idempotency_key: str) -> Answer: ...
    def check_url(self, url: str) -> None: ...
    def client(self, integration: str) -> object:
        """The named integration's client (what an installed integration's action calls)."""
        ...
    def connector_names(self) -> frozenset[str]: ...
    # Look-ups by the key a call was sent with.
    def sms_find_sent(self, provider: SmsProviderName, phone: str, idempotency_key: str,
                      since: datetime) -> Found: ...
    def helpdesk_find_ticket(self, idempotency_key: str) -> Found: ...
    def crm_find_tag_push(self, idempotency_key: str) -> Found: ...


class StepRefused(InvalidInput):
    """The step cannot be done as configured for this run (no order, unknown template...)."""

    code = "step_refused"


@dataclass(frozen=True)
class StepCall:
    run_id: str
    rule_key: str
    order_id: str | None
    params: Params  # rendered
    key: str  # idempotency key
    context: dict[str, Any]

    @property
    def actor(self) -> str:
        return f"rule:{self.rule_key}"

    def with_params(self, params: Params) -> StepCall:
        return StepCall(self.run_id, self.rule_key, self.order_id, params, self.key,
                        self.context)

    @property
    def customer_phone(self) -> str | None:
        customer = (self.context.get("order") or {}).get("customer") or {}
        phone = customer.get("phone")
        return str(phone) if phone else None


@dataclass(frozen=True)
class SentMessage:
    """A message an action sent, read back from the request stored in run history."""

    to: str = ""
    template: str = ""
    sign_name: str = ""
    params: Mapping[str, Any] | None = None
    text: str = ""
    to_group: bool = False  # a group robot, not a person's address


class Cached(Protocol):
    """Reads a register a call needs (an SMS template), cached by the runner for a few
    seconds under KEY."""

    def __call__(self, key: str, load: Callable[[UnitOfWork], T]) -> T: ...


# The hub's own change, in the step's transaction: (uow, call, now) -> outputs.
Effect = Callable[[UnitOfWork, StepCall, datetime], Output]
# The outside call: (outside, call, the internal effect's outputs, HMAC secret) -> answer.
Call = Callable[[Outside, StepCall, Output, str | None], Answer]
# Whether the call with ``call.key`` happened: (outside, call, first called at) -> found.
LookUp = Callable[[Outside, StepCall, datetime], Found]
# Before calling: the params completed with what the call needs from the hub's registers.
Prepare = Callable[[Cached, Params], Params]
# After the answer, in the transaction that records it: (uow, call, outputs, now).
AfterCall = Callable[[UnitOfWork, StepCall, Output, datetime], None]
# A step that only reads (a decision table): (tables, call) -> (response, outputs).
TableLookup = Callable[[str, dict[str, Any]], TableResult]
Read = Callable[[TableLookup, StepCall], tuple[dict[str, Any], Output]]
# A sent message's request as the Messages page shows it.
ReadSent = Callable[[dict[str, Any]], SentMessage]


@dataclass(frozen=True)
class RuleAction:
    """One rule action: its definition and everything the runner, the resend check, the
    console and the read side need to know about it."""

    type: ActionType
    effect: Effect | None = None
    call: Call | None = None
    look_up: LookUp | None = None  # None: the provider cannot be asked about a call
    check: SpecificCheck | None = None  # save-time checks beyond the params' kinds
    prepare: Prepare | None = None
    after_call: AfterCall | None = None
    read: Read | None = None
    read_sent: ReadSent | None = None  # for actions whose type has a ``message`` kind
    # The step's outputs from the answer's body (a named action's declared outputs).
    outputs: Callable[[Any], Output] | None = None
    # A query that changes nothing at the provider, which a backtest may make to predict the
    # step's outputs (and so its outcome branches); None: the outputs are not predicted.
    predict: Call | None = None
    # Without a look-up: why a call whose outcome is unknown is resent without asking, and
    # what protects the receiver from a repeat (logged with each such resend).
    unchecked_resend: str = "the provider offers no look-up by key"

    def __post_init__(self) -> None:
        kind = self.type
        if kind.internal and self.effect is None:
            raise ValueError(f"{kind.id}: an internal action needs an effect")
        if kind.external and self.call is None:
            raise ValueError(f"{kind.id}: an external action needs a call")
        if kind.push_flag is not None and self.call is None:
            raise ValueError(f"{kind.id}: an action that may push needs a call")
        if not (kind.internal or kind.external or self.read is not None):
            raise ValueError(f"{kind.id}: an action changes, calls or reads something")

    @property
    def id(self) -> str:
        return self.type.id


# -- helpers the action modules and the runner share ---------------------------------------

def order_for_update(uow: UnitOfWork, call: StepCall) -> Order:
    if call.order_id is None:
        raise StepRefused("this rule's trigger concerns no order", field="trigger",
                          zh="此规则的触发条件与订单无关")
    order: Order | None = uow.orders.get(call.order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=call.order_id)
    return order


def save(uow: UnitOfWork, order: Order, now: datetime) -> None:
    uow.orders.save(order, now)
    uow.events.append(order.events)


def pick(response: Any, path: str) -> Any:
    """A value from a JSON response by a dotted path (``data.items.0.id``)."""
    current = response
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


class Renders(Protocol):
    def render(self, template: str, context: dict[str, Any]) -> Any: ...


def render(engine: Renders, value: Any, context: dict[str, Any]) -> Any:
    if isinstance(value, str):
        rendered = engine.render(value, context)
        return int(rendered) if isinstance(rendered, float) and rendered.is_integer() \
            else rendered
    if isinstance(value, dict):
        return {k: render(engine, v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(engine, v, context) for v in value]
    return value


def step_outputs(kind: ActionType, step: Step, result: Answer,
                 read: Callable[[Any], Output] | None = None) -> Output:
    """A call's outputs: the connector's, its status code, the response paths the step's
    output mapping names (the type's ``output_param``) and what the action reads from the
    answer (READ)."""
    mapping = step.params.get(kind.output_param) if kind.output_param else None
    base = dict(result.output or {})
    if read is not None:
        base.update(read(result.response))
    if result.status_code is not None:
        base.setdefault("status_code", result.status_code)
    if mapping:
        base.update({name: pick(result.response, path) for name, path in mapping.items()})
    return base


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)
