"""Console languages: Babel catalogs read from the .po files at start-up, one Jinja2 environment
per locale (so concurrent requests in different languages never share a translation), and the
filters that show times in Beijing time, money, lifecycle nodes and codes in the user's language.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from orderpilot.domain.access import ROLE_NAMES, allowed
from orderpilot.domain.audit import ACTION_NAMES
from orderpilot.domain.expectations import HOLD_PREFIX as EXPECTATION_HOLD
from orderpilot.domain.hold_release import RELEASE_REASONS
from orderpilot.domain.lifecycle import EVENT_TYPES, NODE_BY_ID
from orderpilot.domain.masking import mask_as, mask_document, mask_phone
from orderpilot.domain.messages import NAMES, field_path, named, note_text
from orderpilot.domain.rules.triggers import HUB_EVENTS as RULE_EVENTS
from orderpilot.domain.times import SHANGHAI
from orderpilot.domain.withheld import in_language, is_withheld

LOCALES = ("zh_CN", "en")
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


CHANNELS = {"shopee": "Shopee", "lazada": "Lazada", "own_store": N_("Own store"),
            "tiktok": "TikTok Shop",
            "youzan": N_("Youzan"), "shopify": "Shopify", "woocommerce": "WooCommerce",
            "tmall": N_("Tmall"), "jd": N_("JD"), "pinduoduo": N_("Pinduoduo"),
            "douyin": N_("Douyin"), "wechat": N_("WeChat"), "offline": N_("Offline")}
SYSTEMS = {"storefront": N_("Storefront"), "erp": "ERP", "wms": "WMS",
           "carrier": N_("Carrier"), "crm": "CRM", "hub": "orderpilot"}
# Hold reasons people choose from (the first ones) and those rules and the hub set. One code,
# one name: a stock hold is ``out_of_stock`` whoever places it (``stock_shortage`` is what
# people chose before; old holds keep their code and show the same name).
HOLD_REASONS = {"address_incomplete": N_("Address incomplete"),
                "qualification_pending": N_("Qualification pending"),
                "out_of_stock": N_("Stock shortage"),
                "payment_review": N_("Payment under review"),
                "customer_request": N_("Customer asked to wait"),
                "suspected_fraud": N_("Suspected fraud"),
                "price_error": N_("Price error"),
                "customs_check": N_("Customs check")}
OTHER_REASONS = {"stock_shortage": N_("Stock shortage"),
                 "high_value_review": N_("Large order under review"),
                 "return_decision_required": N_("Return needs a decision")}
HUB_EVENTS = {"order.placed": N_("Order placed"), "hold.placed": N_("Hold placed"),
              "hold.released": N_("Hold released"), "order.late_report": N_("Late report"),
              "order.note_added": N_("Note added"),
              # A channel's buyer fields, withheld when the order was taken, read later
              "order.customer_revealed": N_("Buyer details decrypted")}
HOLD_KINDS = {"user": N_("by a person"), "rule": N_("by a rule"), "system": N_("by the system")}
OUTCOMES = {"moved": N_("Moved"), "late": N_("Late report"), "view": N_("View only"),
            "duplicate": N_("Duplicate"), "recorded": N_("Recorded only")}
TICKET_STATUSES = {"open": N_("Open"), "in_progress": N_("In progress"),
                   "resolved": N_("Resolved"), "closed": N_("Closed")}
PRIORITIES = {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal"),
              "low": N_("Low")}
RUN_STATUSES = {"pending": N_("Pending"), "succeeded": N_("Succeeded"), "failed": N_("Failed"),
                "dead": N_("Dead"), "skipped": N_("Skipped"), "interrupted": N_("Interrupted")}
ATTEMPTS = {"ok": N_("OK"), "retry": N_("Will retry"), "failed": N_("Failed"),
            "sending": N_("Sending"), "interrupted": N_("Interrupted"),
            "found": N_("Found at the provider"),
            "not_found": N_("Not found at the provider"),
            "lookup_failed": N_("Provider look-up failed")}
TRIGGER_KINDS = {"event": N_("Event"), "schedule": N_("Schedule"), "timeout": N_("Timeout"),
                 "replay": N_("Replay")}
SYNC_METHODS = {"push": N_("Push"), "pull": N_("Pull"), "import": N_("Excel import"),
                "manual": N_("Entered by hand")}
SYNC_STATUSES = {"applied": N_("Applied"), "failed": N_("Failed"), "partial": N_("Partly applied"),
                 "duplicate": N_("Duplicate"), "running": N_("Running")}
# Every kind of code a person sees, for the ``code`` filter: ``{{ h.reason|code('reason') }}``.
LABELS: dict[str, dict[str, str]] = {
    "channel": CHANNELS, "system": SYSTEMS, "reason": {**HOLD_REASONS, **OTHER_REASONS},
    "hold_kind": HOLD_KINDS, "outcome": OUTCOMES, "ticket_status": TICKET_STATUSES,
    "priority": PRIORITIES, "run_status": RUN_STATUSES, "attempt": ATTEMPTS,
    "trigger_kind": TRIGGER_KINDS, "sync_method": SYNC_METHODS, "sync_status": SYNC_STATUSES,
}


def pick_locale(value: object, default: str) -> str:
    if isinstance(value, str) and value in LOCALES:
        return value
    return default if default in LOCALES else LOCALES[0]


def load_translations(locale: str) -> Translations:
    """Read the .po file and compile it in memory: nothing to compile at install time."""
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def to_shanghai(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)


def sees_personal_data(context: Context) -> bool:
    principal = context.get("principal")
    return principal is not None and allowed(principal.role, "pii.read")


class Bilingual(Protocol):
    """A domain error or rule problem: its message in English or Chinese."""

    def in_language(self, locale: str | None) -> str: ...


def say(message: Bilingual | str, locale: str) -> str:
    """A domain message in LOCALE; a plain string (already the user's language) as it is."""
    return message if isinstance(message, str) else message.in_language(locale)


def build_environment(locale: str, translations: Translations) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR),
                      autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    gettext = translations.gettext
    zh = locale == "zh_CN"

    def when(value: str | datetime | None, seconds: bool = True) -> str:
        moment = to_shanghai(value)
        if moment is None:
            return "—"
        return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

    def money(amount: str | Decimal, currency: str = "CNY") -> str:
        return format_currency(Decimal(str(amount)), currency, locale=locale)

    def number(value: int | Decimal) -> str:
        return format_decimal(value, locale=locale)

    def node(status: str) -> str:
        found = NODE_BY_ID.get(status)
        return (found.zh if zh else found.en) if found else named("status", status, locale)

    def event_type(type_: str) -> str:
        if type_ in EVENT_TYPES:
            return EVENT_TYPES[type_].zh if zh else EVENT_TYPES[type_].en
        if type_ in RULE_EVENTS:  # one name per event: the one rules show too
            return RULE_EVENTS[type_][0 if zh else 1]
        if type_ in HUB_EVENTS:
            return gettext(HUB_EVENTS[type_])
        return named("event", type_, locale)

    release_reasons = {code: zh_name if zh else en for code, zh_name, en in RELEASE_REASONS}

    def label(table: dict[str, str]) -> Callable[[str], str]:
        return lambda code: gettext(table[code]) if code in table else code

    def reason(code: str) -> str:
        """A hold reason; a breached expectation's (``expectation:<code>``) names its code."""
        if code.startswith(EXPECTATION_HOLD):
            return gettext("Expectation not met: %(code)s") % {
                "code": code[len(EXPECTATION_HOLD):]}
        return label(LABELS["reason"])(code)

    def code(value: str | None, kind: str) -> str:
        """A code of KIND (``reason``, ``priority``, ``event``, ...) in the page's language;
        a code the catalogue does not know shows as it is (the zh-CN page test finds it)."""
        if value is None or value == "":
            return "—"
        if kind == "reason":
            return reason(value)
        if kind == "audit_action":  # one table of the trail's actions (domain/audit.py)
            names = ACTION_NAMES.get(value)
            return names[0 if zh else 1] if names else value
        if kind in LABELS:
            return label(LABELS[kind])(value)
        if kind == "event":
            return event_type(value)
        if kind == "node":
            return node(value)
        if kind == "role":
            return ROLE_NAMES[value][0 if zh else 1] if value in ROLE_NAMES else value
        if kind == "source":
            return source(value)
        return named(kind, value, locale)

    def source(value: str) -> str:
        """Who reported: a channel, a system, a person (``user:<login>``) or a stock source."""
        if value.startswith("user:"):
            return gettext("user %(login)s") % {"login": value[5:]}
        for table in (CHANNELS, SYSTEMS):
            if value in table:
                return gettext(table[value])
        return named("source", value, locale)

    def by(value: str | None) -> str:
        """Who placed or released a hold: a login, ``rule:<key>``, or the hub's inventory."""
        if not value:
            return "—"
        if value.startswith("rule:"):
            return gettext("rule %(key)s") % {"key": value[5:]}
        return source(value) if value in NAMES["source"] or value in SYSTEMS else value

    def lag(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        sign, s = ("-" if seconds < 0 else ""), abs(seconds)
        if s < 60:
            return sign + gettext("%(s)s s") % {"s": f"{s:.1f}".rstrip("0").rstrip(".")}
        if s < 3600:
            return sign + gettext("%(m)d min %(s)d s") % {"m": s // 60, "s": s % 60}
        if s < 86400:
            return sign + gettext("%(h)d h %(m)d min") % {"h": s // 3600, "m": s % 3600 // 60}
        return sign + gettext("%(d)d d %(h)d h") % {"d": s // 86400, "h": s % 86400 // 3600}

    @pass_context
    def phone(context: Context, value: str) -> str:
        if is_withheld(value):
            return in_language(value, locale)
        return value if sees_personal_data(context) else mask_phone(value)

    @pass_context
    def pii(context: Context, value: str | None, role: str) -> str:
        """A buyer's "name", "phone", "address" or "email", masked unless the reader has
        pii.read (domain/masking.py)."""
        if value and is_withheld(value):  # a channel's note, not the buyer's data
            return in_language(value, locale)
        if not value or sees_personal_data(context):
            return value or ""
        return mask_as(role, value)

    @pass_context
    def pretty_json(context: Context, value: Any) -> str:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        if not sees_personal_data(context):
            value = mask_document(value)
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                               indent=2, default=str)

    env.filters.update(when=when, money=money, number=number, node=node,
                       event_type=event_type, channel=label(CHANNELS), system=label(SYSTEMS),
                       reason=reason, outcome=label(OUTCOMES),
                       hold_kind=label(HOLD_KINDS), lag=lag, code=code, source=source, by=by,
                       field_path=lambda path: field_path(path, locale),
                       note=lambda text: note_text(text, locale),
                       phone=phone, pii=pii, pretty_json=pretty_json,
                       say=lambda message: say(message, locale),
                       role=lambda r: ROLE_NAMES[r][0 if zh else 1] if r in ROLE_NAMES else r,
                       release_reason=lambda code: release_reasons.get(code, code))
    env.globals.update(locale=locale, html_lang=HTML_LANG[locale],
                       hold_reasons=list(HOLD_REASONS), channels=list(CHANNELS))
    # Macros as a global, not an import: a block rendered alone (HTMX) sees globals only.
    env.globals["ui"] = env.get_template("_macros.html").module
    return env
