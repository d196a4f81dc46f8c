"""Customers and shipping addresses, with the normalised flags rules look at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Longest names first so 综合保税区 is named as such, not as 保税区.
BONDED_ZONE_MARKERS = ("综合保税区", "保税物流园区", "保税港区", "保税区", "bonded zone")
_PHONE_CLEAN = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class Customer:
    name: str
    phone: str

    @staticmethod
    def normalise_phone(phone: str) -> str:
        cleaned = _PHONE_CLEAN.sub("", phone)
        if cleaned.startswith("+86"):
            cleaned = cleaned[3:]
        elif cleaned.startswith("0086"):
            cleaned = cleaned[4:]
        return cleaned


@dataclass(frozen=True)
class Address:
    country: str
    province: str = ""
    city: str = ""
    district: str = ""
    line1: str = ""
    postal_code: str = ""
    flags: tuple[str, ...] = field(default=())

    @classmethod
    def normalised(cls, country: str, province: str = "", city: str = "", district: str = "",
                   line1: str = "", postal_code: str = "") -> Address:
        province, city, district, line1 = (p.strip() for p in (province, city, district, line1))
        return cls(country.strip().upper(), province, city, district, line1, postal_code.strip(),
                   flags=address_flags(" ".join((province, city, district, line1))))

    @property
    def bonded_zone(self) -> bool:
        return "bonded_zone" in self.flags

    @property
    def bonded_zone_kind(self) -> str | None:
        text = " ".join((self.province, self.city, self.district, self.line1)).lower()
        return next((m for m in BONDED_ZONE_MARKERS if m in text), None)


def address_flags(text: str) -> tuple[str, ...]:
    flags = []
    lowered = text.lower()
    if any(marker in lowered for marker in BONDED_ZONE_MARKERS):
        flags.append("bonded_zone")
    return tuple(flags)
