"""The one masking policy for a buyer's personal data: phones, names, addresses and e-mails.

Every read surface (API responses, console pages, exports, rule runs and traces, logs) masks
through this module for a reader without the ``pii.read`` permission (domain/access.py), so a
number masked on one screen is masked the same way on every other.

Two ways of finding personal data, used together:

* by place: a value under a key that names it (``phone``, ``customer.name``, ``line1``,
  ``shipping_address``, a trace leaf on ``order.customer.phone``) is masked whole;
* by shape: any other text has its mainland mobiles, international ``+`` numbers and e-mails
  masked, and so does every value already found by place elsewhere in the same document (a
  ticket body that repeats the buyer's name, an SMS parameter string that repeats the phone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from orderpilot.domain.withheld import is_withheld

# Mainland mobiles, with an optional 86 / +86 / 0086 prefix, not inside a longer code (an
# order id, a UUID); Chinese text right beside the number does not protect it.
_CN_MOBILE = re.compile(
    r"(?<![0-9A-Za-z_+-])(?:\+?86[ -]?|0086[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?![0-9A-Za-z])")
# International numbers need the leading +: 7 to 15 digits, single spaces or dashes between.
_INTERNATIONAL = re.compile(r"(?<![0-9A-Za-z_+])\+\d(?:[ -]?\d){6,14}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")

_PHONE_WORDS = ("phone", "mobile", "telephone")
_PHONE_KEYS = frozenset({"tel", "msisdn"})
_PERSON_KEYS = frozenset({"customer", "buyer", "receiver", "recipient", "consignee", "contact"})
_NAME_KEYS = frozenset({"customer_name", "buyer_name", "receiver_name", "recipient_name",
                        "contact_name", "full_name", "buyer_nick",
                        # as the sales platforms name them in their raw orders (issue 10)
                        "first_name", "last_name", "customer_first_name",
                        "customer_last_name", "buyer_username", "buyer_nickname",
                        "fans_nickname", "buyer_user_name"})
# A "name" inside one of these is a person's (a product's or a rule's name is not).
_PERSONS = _PERSON_KEYS | {"shipping_address", "address", "billing_address", "shipping",
                           "billing", "address_shipping", "address_billing",
                           "recipient_address", "buyer_info", "address_info"}
_ADDRESS_KEYS = frozenset({"line1", "line2", "street", "street_address", "detail_address",
                           "full_address", "address_line1", "address_line2", "addr"})
Known = Mapping[str, str] | Iterable[str]
MIN_KNOWN_LENGTH = 2  # a one-character "name" would blot out half a Chinese sentence


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def mask_phone(value: str) -> str:
    """A whole phone value: 138****1234, +65****4567. Enough to match a caller, not to call."""
    text = value.strip()
    digits = _digits(text)
    if "****" in text or is_withheld(text):
        return text
    if len(digits) < 5:
        return "*" * len(text)
    plus = "+" if text.startswith("+") else ""
    keep_head = 3 - len(plus)
    keep_tail = 4 if len(digits) >= 10 else 2
    if len(digits) <= keep_head + keep_tail:
        return plus + "*" * (len(digits) - 2) + digits[-2:]
    return f"{plus}{digits[:keep_head]}****{digits[-keep_tail:]}"


def mask_name(value: str) -> str:
    """张三 -> 张*, Tan Ah Kow -> T*********: the initial only."""
    text = value.strip()
    if not text or is_withheld(text):
        return text
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_address(value: str) -> str:
    """A street line keeps its first third (at most 6 characters): the area, not the door."""
    text = value.strip()
    if is_withheld(text):
        return text
    keep = min(6, len(text) // 3)
    return text[:keep] + "***"


def mask_email(value: str) -> str:
    local, at, domain = value.strip().partition("@")
    if not at:
        return mask_name(value)
    return f"{local[:1]}***@{domain}"


def mask_phones_in(text: str) -> str:
    """Free text: every mainland mobile and international number in it masked."""
    text = _CN_MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    return _INTERNATIONAL.sub(lambda m: mask_phone(m.group(0)), text)


def mask_text(text: str, known: Known = ()) -> str:
    """Free text: phones and e-mails by shape, and each KNOWN personal value wherever it
    stands as a whole word (a buyer called "Li" leaves "Lines" alone). KNOWN maps a value to
    its role ("name", "address"...), or is a plain collection and the role is guessed."""
    roles = known if isinstance(known, Mapping) else {v: _role_by_look(v) for v in known}
    values = sorted((v for v in roles if len(v) >= MIN_KNOWN_LENGTH), key=len, reverse=True)
    if values:
        pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, values))
                             + r")(?![A-Za-z0-9])")
        text = pattern.sub(lambda m: mask_as(roles[m.group(0)], m.group(0)), text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return mask_phones_in(text)


def role_of(key: str, parent: str = "") -> str | None:
    """What a value under KEY (inside PARENT) is: "phone", "name", "address", "email" or None."""
    k, p = key.lower(), parent.lower()
    if k in _PHONE_KEYS or any(word in k for word in _PHONE_WORDS) or k.endswith("_tel") \
            or k.endswith("_mobile"):
        return "phone"
    if "email" in k or k == "mail":
        return "email"
    if k in _NAME_KEYS or k in _PERSON_KEYS or (k == "name" and p in _PERSONS):
        return "name"
    if k in _ADDRESS_KEYS or ("address" in k and not k.endswith("flags")):
        return "address"
    return None


def mask_as(role: str, value: str) -> str:
    if "***" in value:  # masked already (connectors mask what they record): keep it as it is
        return value
    if role == "phone":
        return mask_phone(value)
    if role == "name":
        return mask_name(value)
    if role == "address":
        return mask_address(value)
    return mask_email(value)


def mask_field(key: str, value: Any, parent: str = "", known: Known = ()) -> Any:
    """One value under KEY, masked by place where the key names personal data, else by shape."""
    return _mask(value, key, parent, _roles(known))


def personal_values(value: Any, key: str = "", parent: str = "") -> dict[str, str]:
    """Every personal value found by place in a document, with its role (for masking its
    repeats in text)."""
    found: dict[str, str] = {}
    _collect(value, key, parent, found)
    return found


def mask_document(value: Any, known: Known = ()) -> Any:
    """A JSON-like document (dicts, lists, strings, numbers) with personal data masked; the
    values found by place are also masked wherever the document repeats them in text."""
    return _mask(value, "", "", _roles(known) | personal_values(value))


def _roles(known: Known) -> dict[str, str]:
    return dict(known) if isinstance(known, Mapping) else {v: _role_by_look(v) for v in known}


def _role_by_look(value: str) -> str:
    if len(_digits(value)) >= 5 and re.fullmatch(r"[\d+ ()-]+", value):
        return "phone"
    if "@" in value:
        return "email"
    return "name" if len(value) <= 30 else "address"


def _is_template(value: str) -> bool:
    return "{{" in value  # a rule's "{{ order.customer.phone }}" is a placeholder, not data


def _leaf_place(node: dict[str, Any]) -> tuple[str, str] | None:
    """A condition leaf or trace leaf: {"field": "order.customer.phone", "actual": ...}."""
    field = node.get("field")
    if not isinstance(field, str) or "." not in field:
        return None
    parts = field.split(".")
    return parts[-1], parts[-2]


def _collect(value: Any, key: str, parent: str, found: dict[str, str]) -> None:
    if isinstance(value, dict):
        place = _leaf_place(value)
        for k, v in value.items():
            if place is not None and k in ("actual", "value"):
                _collect(v, place[0], place[1], found)
            else:
                _collect(v, str(k), key, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, key, parent, found)
    elif isinstance(value, str) and value.strip() and not _is_template(value):
        role = role_of(key, parent)
        if role is not None:
            found[value.strip()] = role


def _mask(value: Any, key: str, parent: str, known: dict[str, str]) -> Any:
    if isinstance(value, dict):
        place = _leaf_place(value)
        return {k: (_mask(v, place[0], place[1], known)
                    if place is not None and k in ("actual", "value")
                    else _mask(v, str(k), key, known)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item, key, parent, known) for item in value]
    if not isinstance(value, str):
        return value
    role = role_of(key, parent)
    if role is not None and value.strip() and not _is_template(value):
        return mask_as(role, value)
    return mask_text(value, known)

