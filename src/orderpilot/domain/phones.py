"""Buyers' phone numbers, checked against the numbering plan of their country.

A number is read in its international form (``+65 9123 4567``, ``0065...``) or in the local form
of the shipping address's country (``9123 4567`` for SG, ``0912 345 678`` for TW). Spaces,
dashes, dots and parentheses are ignored. A mainland number is kept as its national form
(``13800000000``, ``01012345678``), the form Chinese SMS providers, couriers and CRMs use and
the form stored since the first release; any other number is kept in E.164 (``+6591234567``).

Sources (the national numbering plans as notified to the ITU-T, E.164 Annex, checked against
Google's libphonenumber metadata ``resources/PhoneNumberMetadata.xml``, v8.13):
- CN +86: MIIT 《电信网编号计划（2017年版）》: mobile 1[3-9]X XXXX XXXX; fixed lines are an area
  code of 2-3 digits after the trunk 0 (010, 021, 0571) and 7-8 digits.
- HK +852: OFCA Numbering Plan: 8 digits, fixed 2/3, mobile 4-9; no trunk prefix.
- TW +886: NCC 電信號碼分配: mobile 09XX XXX XXX; fixed 0 + area (2-8) + 7-8 digits.
- SG +65: IMDA National Numbering Plan: 8 digits, 3 (VoIP), 6 (fixed), 8-9 (mobile).
- MY +60: MCMC National Numbering Plan: mobile 01X + 7-8 digits; fixed 0[3-9] + 7-8 digits.
- TH +66: NBTC numbering plan: mobile 0[689] + 8 digits; fixed 0[2-7] + 7 digits.
- ID +62: Kominfo numbering plan: mobile 08 + 8-11 digits; fixed 0[2-7] + area + 6-9 digits.
- PH +63: NTC numbering plan: mobile 09 + 9 digits; fixed 0[2-8] + 7-8 digits.
- VN +84: MIC Circular 22/2014 (as changed in 2018): mobile 0[35789] + 8 digits; fixed 02 +
  9 digits.
- US +1: NANP (ATIS INC-015): NPA [2-9]XX, NXX [2-9]XX, XXXX; a leading 1 is the trunk prefix.
Other countries: any E.164 number (``+``, a country code, 7-15 digits in all), or 6-15 digits
in local form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NumberingPlan:
    country: str
    calling_code: str
    # The national significant number (after the country code, without the trunk prefix).
    significant: re.Pattern[str]
    trunk_prefix: str = ""  # dialled before the significant number in local form
    trunk_required: bool = False  # local form must carry the trunk prefix (0 in TW, MY, ...)


def _plan(country: str, code: str, significant: str, trunk: str = "",
          required: bool = False) -> NumberingPlan:
    return NumberingPlan(country, code, re.compile(rf"^(?:{significant})$"), trunk, required)


PLANS = {plan.country: plan for plan in (
    _plan("CN", "86", r"1[3-9]\d{9}|10\d{8}|2\d{9}|[3-9]\d{9,10}", "0"),
    _plan("HK", "852", r"[2-9]\d{7}"),
    _plan("TW", "886", r"9\d{8}|[2-8]\d{7,8}", "0", True),
    _plan("SG", "65", r"[3689]\d{7}"),
    _plan("MY", "60", r"1\d{8,9}|[3-9]\d{7,8}", "0", True),
    _plan("TH", "66", r"[689]\d{8}|[2-7]\d{7}", "0", True),
    _plan("ID", "62", r"8[1-9]\d{7,10}|[2-7]\d{7,10}", "0", True),
    _plan("PH", "63", r"9\d{9}|[2-8]\d{7,8}", "0", True),
    _plan("VN", "84", r"[35789]\d{8}|2\d{9}", "0", True),
    _plan("US", "1", r"[2-9]\d{2}[2-9]\d{6}", "1"),
)}
# Longest first: +852 is Hong Kong, not a +85... that does not exist.
BY_CALLING_CODE = sorted(PLANS.values(), key=lambda p: -len(p.calling_code))
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-().]")
_OTHER_INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")
_OTHER_LOCAL = re.compile(r"^\d{6,15}$")


class PhoneInvalid(ValueError):
    """The number fits no form of the plan; ``plan`` is the one it was checked against."""

    def __init__(self, plan: NumberingPlan | None) -> None:
        super().__init__(plan.country if plan else "")
        self.plan = plan


def normalise_phone(phone: str, country: str) -> str:
    """The number in its stored form, or PhoneInvalid.

    ``country`` (the shipping address's, ISO 3166 alpha-2) says how to read a local form; an
    international form is checked against its own country's plan."""
    digits = _SEPARATORS.sub("", phone)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+"):
        plan = next((p for p in BY_CALLING_CODE if digits[1:].startswith(p.calling_code)),
                    None)
        if plan is None:
            if _OTHER_INTERNATIONAL.match(digits):
                return digits
            raise PhoneInvalid(None)
        return _stored(plan, digits[1 + len(plan.calling_code):])
    plan = PLANS.get(country.upper())
    if plan is None:
        if _OTHER_LOCAL.match(digits):
            return digits
        raise PhoneInvalid(None)
    if plan.trunk_prefix and digits.startswith(plan.trunk_prefix) \
            and plan.significant.match(digits[len(plan.trunk_prefix):]):
        return _stored(plan, digits[len(plan.trunk_prefix):])
    if plan.trunk_required:
        raise PhoneInvalid(plan)
    return _stored(plan, digits)


def _stored(plan: NumberingPlan, significant: str) -> str:
    if not plan.significant.match(significant):
        raise PhoneInvalid(plan)
    if plan.country == "CN":  # mobiles as they are, fixed lines with their trunk 0
        return significant if _CN_MOBILE.fullmatch(significant) else "0" + significant
    return f"+{plan.calling_code}{significant}"


def example(country: str) -> str:
    """A valid local number of the country, shown in error messages."""
    return EXAMPLES.get(country.upper(), "+6591234567")


EXAMPLES = {"CN": "13800000000", "HK": "51234567", "TW": "0912345678", "SG": "91234567",
            "MY": "0123456789", "TH": "0812345678", "ID": "081234567890",
            "PH": "09171234567", "VN": "0912345678", "US": "2025550123"}
