"""Lazada's production hosts: one API gateway per country, one central authorisation host.

Service endpoints as listed on every API page, e.g.
https://open.lazada.com/apps/doc/api?path=%2Forders%2Fget ("Vietnam https://api.lazada.vn/rest,
Singapore https://api.lazada.sg/rest, Philippines https://api.lazada.com.ph/rest, Malaysia
https://api.lazada.com.my/rest, Thailand https://api.lazada.co.th/rest, Indonesia
https://api.lazada.co.id/rest"); the authorisation host https://auth.lazada.com/rest ("Central:
for all countries", https://open.lazada.com/apps/doc/doc?nodeId=10777&docId=108260).
"""

from __future__ import annotations

from pydantic import BaseModel

API_HOSTS = {
    "SG": "https://api.lazada.sg/rest",
    "MY": "https://api.lazada.com.my/rest",
    "TH": "https://api.lazada.co.th/rest",
    "ID": "https://api.lazada.co.id/rest",
    "PH": "https://api.lazada.com.ph/rest",
    "VN": "https://api.lazada.vn/rest",
}
AUTH_URL = "https://auth.lazada.com/rest"


def default_base_url(region: str) -> str:
    """The country's API gateway (Singapore's when the region is not one of the six)."""
    return API_HOSTS.get(region.strip().upper(), API_HOSTS["SG"])


class LazadaHosts(BaseModel):
    """The documented production hosts (nothing to configure: shops are channel accounts)."""

    api_hosts: dict[str, str] = dict(API_HOSTS)
    auth_url: str = AUTH_URL


def hosts_of(settings: LazadaHosts) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*settings.api_hosts.values(), settings.auth_url)))
