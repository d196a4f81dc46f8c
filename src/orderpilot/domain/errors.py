"""Every error the hub raises on purpose: a stable code, the values in the message, the field at
fault, and the message in English and in Chinese.

Hierarchy (the API layer alone maps these to HTTP statuses; adapters raise these classes or
subclasses of them, so the service layer catches domain types only):

    OrderpilotError
    ├── InvalidInput              bad data; names the field                  -> 422
    │   ├── OrderInvalid          an order, every problem (domain/intake.py)
    │   ├── RuleInvalid           a rule or table, every problem (domain/rules/problems.py)
    │   ├── StepRefused           a rule step the hub will not run (services/rules/actions.py)
    │   ├── InventoryInputError   bad stock, source or strategy data           (a ValueError)
    │   ├── CellError             a decision-table cell that is no expression  (a ValueError)
    │   ├── BadUrl                not a plain http(s) origin or allow entry    (a ValueError)
    │   ├── UnreadableSheet       an upload we do not read, or past its SheetLimits
    │   ├── RuleFileError         a rule YAML file: names the file, the line and the field
    │   ├── ExpressionTooCostly   an expression beyond the cost limits         (a ValueError)
    │   └── ExpressionError       the engine refused or failed an expression
    │       └── ExpressionTooSlow it finished, past its time budget
    ├── NotFound                  no such order / hold / user                -> 404
    ├── Conflict                  clashes with what is stored                -> 409
    │   ├── IllegalTransition     the lifecycle does not allow it            -> 409
    │   ├── OrderOnHold           a hold blocks the step                     -> 409
    │   ├── ConcurrentUpdate      someone changed it first (retryable)       -> 409
    │   └── OrderChanged          re-sent with other contents (domain/order_changes.py)
    ├── Forbidden                 the role may not do this                   -> 403
    └── ConnectorError            an outside call did not do what was asked  -> 502
        ├── TransientError        timeout, refused, 5xx, 429: may succeed later
        └── PermanentError        4xx, or the provider said no
            ├── HostNotAllowed    no allow-list entry covers the URL
            │   └── AddressNotAllowed  the host resolved to a forbidden address
            ├── Redirected        a 3xx answer, never followed
            └── ResponseTooLarge  the answer is longer than the hub reads

Languages. ``message`` is English (what logs, run history, the CLI and English clients see;
``str(error)`` is the same). ``message_zh`` is Chinese:
- the catalogue (:mod:`orderpilot.domain.messages`) holds both texts of the messages raised in
  many places or from adapters: ``NotFound.coded("order.not_found", order_id=...)``;
- a one-off message gives its Chinese text where it is raised: ``InvalidInput(en, zh=...)``;
- a raise site with neither shows the class's Chinese title with the English detail after it.
``in_language(locale)`` picks one (zh-CN, zh_CN, zh... -> Chinese; anything else -> English).

The API always sends both: ``{"error": {"code", "message", "field", "message_zh"}}`` (and each
entry of ``details`` has ``field``, ``code``, ``message`` and ``message_zh``), whatever the
request's Accept-Language: a client picks without negotiating, and caches never mix languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from orderpilot.domain.messages import CATALOGUE
from orderpilot.domain.outside_calls import STORED_RESPONSE_BYTES, stored


def is_chinese(locale: str | None) -> bool:
    return bool(locale) and str(locale).lower().replace("_", "-").startswith("zh")


class OrderpilotError(Exception):
    code = "error"
    title_zh = "操作失败"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 params: Mapping[str, Any] | None = None, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.params: dict[str, Any] = dict(params or {})
        self.zh = zh

    @classmethod
    def coded(cls, key: str, *, field: str | None = None, code: str | None = None,
              **params: Any) -> Self:
        """An error whose texts come from the catalogue entry ``key``; its code stays the
        class's unless ``code`` is given."""
        en, zh = CATALOGUE[key]
        return cls(en % params, field=field, code=code, params=params, zh=zh % params)

    @property
    def message_zh(self) -> str:
        return self.zh or f"{self.title_zh}：{self.message}"

    def in_language(self, locale: str | None) -> str:
        return self.message_zh if is_chinese(locale) else self.message


class InvalidInput(OrderpilotError):
    code = "invalid_input"
    title_zh = "输入有误"


class NotFound(OrderpilotError):
    code = "not_found"
    title_zh = "未找到"


class Conflict(OrderpilotError):
    code = "conflict"
    title_zh = "与现有数据冲突"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title_zh = "当前状态不允许此操作"


class OrderOnHold(Conflict):
    code = "order_on_hold"
    title_zh = "订单已挂起"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"
    title_zh = "数据已被他人修改，请重试"


class Forbidden(OrderpilotError):
    code = "forbidden"
    title_zh = "无权执行此操作"


# -- input the hub reads: stock data, cells, URLs, sheets, rule files, expressions ---------------


class InventoryInputError(InvalidInput, ValueError):
    """Bad inventory data; ``field`` names where."""

    code = "inventory_input"

    def __init__(self, message: str, field: str, *, zh: str | None = None,
                 code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, field=field, zh=zh, code=code, params=params)


class CellError(InvalidInput, ValueError):
    """A cell that cannot be turned into an expression."""

    code = "cell_invalid"
    title_zh = "单元格无效"


class BadUrl(InvalidInput, ValueError):
    """A URL or an allow-list entry that is not a plain http(s) origin; the message says why."""

    code = "bad_url"
    title_zh = "网址无效"


class UnreadableSheet(InvalidInput):
    """The file is not a sheet we can read; ``code`` is the catalogue's ``sheet.<code>``
    without its prefix (``too_many_rows``), ``params`` the values in the message."""

    title_zh = "无法读取表格"

    def __init__(self, code: str, **params: Any) -> None:
        en, zh = CATALOGUE[f"sheet.{code}"]
        super().__init__(en % params, code=code, params=params, zh=zh % params)


class RuleFileError(InvalidInput):
    """A rule file that cannot be imported: names the file, the line and the field."""

    code = "rule_file_invalid"
    title_zh = "规则文件有误"

    def __init__(self, path: Any, line: int | None, field: str | None, message: str, *,
                 zh: str | None = None) -> None:
        name = getattr(path, "name", str(path))
        where = f"{name}" + (f":{line}" if line else "") + (f" {field}" if field else "")
        where_zh = f"{name}" + (f" 第 {line} 行" if line else "") + (f" {field}" if field else "")
        super().__init__(f"{where}: {message}", field=field,
                         params={"file": name, "line": line},
                         zh=f"{where_zh}：{zh}" if zh else None)
        self.path, self.line = path, line
        self.detail = message  # the message without the file and line


class ExpressionTooCostly(InvalidInput, ValueError):
    """The expression could exhaust memory or time; the message says what to change."""

    code = "expression_too_costly"
    title_zh = "表达式过于复杂"


class ExpressionError(InvalidInput):
    """The engine refused an expression or failed evaluating it."""

    code = "expression_failed"
    title_zh = "表达式无法计算"


class ExpressionTooSlow(ExpressionError):
    """The evaluation finished but took longer than the budget."""

    code = "expression_too_slow"
    title_zh = "表达式计算超时"


# -- outside calls (adapters/connectors) ----------------------------------------------------------


class ConnectorError(OrderpilotError):
    """A call did not do what was asked; carries what was sent and what came back (run history
    keeps them masked: domain/outside_calls.py)."""

    code = "connector.failed"
    title_zh = "外部系统调用失败"

    def __init__(self, message: str, *, request: dict[str, Any] | None = None,
                 response: Any = None, status_code: int | None = None,
                 latency_ms: float = 0.0, zh: str | None = None) -> None:
        super().__init__(message, zh=zh, params={"status_code": status_code})
        self.request = request or {}
        self.response = response
        self.status_code = status_code
        self.latency_ms = latency_ms
        self.store_limit = STORED_RESPONSE_BYTES

    @property
    def stored_response(self) -> Any:
        return stored(self.response, self.store_limit)


class TransientError(ConnectorError):
    code = "connector.transient"
    title_zh = "外部系统暂时不可用"


class PermanentError(ConnectorError):
    code = "connector.permanent"
    title_zh = "外部系统拒绝了请求"


class HostNotAllowed(PermanentError):
    code = "connector.host_not_allowed"
    title_zh = "目标地址不在允许列表中"


class AddressNotAllowed(HostNotAllowed):
    code = "connector.address_not_allowed"
    title_zh = "目标主机解析到的地址不被允许"


class Redirected(PermanentError):
    code = "connector.redirected"
    title_zh = "外部系统返回了重定向（不会跟随）"


class ResponseTooLarge(PermanentError):
    code = "connector.response_too_large"
    title_zh = "外部系统的响应过大"
