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
from orderpilot.domain.lifecycle import EVENT_TYPES, NODE_BY_ID
from orderpilot.domain.masking import mask_as, mask_document, mask_phone
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
            "youzan": N_("Youzan"), "shopify": "Shopify", "woocommerce": "WooCommerce",
            "tmall": N_("Tmall"), "jd": N_("JD"), "pinduoduo": N_("Pinduoduo"),
            "douyin": N_("Douyin"), "wechat": N_("WeChat"), "offline": N_("Offline")}
SYSTEMS = {"storefront": N_("Storefront"), "erp": "ERP", "wms": "WMS",
           "carrier": N_("Carrier"), "crm": "CRM", "hub": "orderpilot"}
HOLD_REASONS = {"address_incomplete": N_("Address incomplete"),
                "qualification_pending": N_("Qualification pending"),
                "stock_shortage": N_("Stock shortage"),
                "payment_review": N_("Payment under review"),
                "customer_request": N_("Customer asked to wait"),
                "suspected_fraud": N_("Suspected fraud"),
                "price_error": N_("Price error"),
                "customs_check": N_("Customs check")}
HUB_EVENTS = {"order.placed": N_("Order placed"), "hold.placed": N_("Hold placed"),
              "hold.released": N_("Hold released"), "order.late_report": N_("Late report")}
# A channel's buyer fields, withheld when the order was taken, read later (domain/order.py)
HUB_EVENTS["order.customer_revealed"] = N_("Buyer details decrypted")
HOLD_KINDS = {"user": N_("by a person"), "rule": N_("by a rule"), "system": N_("by the system")}
OUTCOMES = {"moved": N_("Moved"), "late": N_("Late report"), "view": N_("View only"),
            "duplicate": N_("Duplicate")}


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
        return (found.zh if zh else found.en) if found else status

    def event_type(type_: str) -> str:
        if type_ in EVENT_TYPES:
            return EVENT_TYPES[type_].zh if zh else EVENT_TYPES[type_].en
        return gettext(HUB_EVENTS[type_]) if type_ in HUB_EVENTS else type_

    def label(table: dict[str, str]) -> Callable[[str], str]:
        return lambda code: gettext(table[code]) if code in table else code

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
                       reason=label(HOLD_REASONS), outcome=label(OUTCOMES),
                       hold_kind=label(HOLD_KINDS), lag=lag,
                       phone=phone, pii=pii, pretty_json=pretty_json,
                       say=lambda message: say(message, locale),
                       role=lambda r: ROLE_NAMES[r][0 if zh else 1] if r in ROLE_NAMES else r)
    env.globals.update(locale=locale, html_lang=HTML_LANG[locale],
                       hold_reasons=list(HOLD_REASONS), channels=list(CHANNELS))
    # Macros as a global, not an import: a block rendered alone (HTMX) sees globals only.
    env.globals["ui"] = env.get_template("_macros.html").module
    return env
