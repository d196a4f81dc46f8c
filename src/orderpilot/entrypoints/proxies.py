"""The real client address, behind reverse proxies only where they are configured.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when the
peer is a configured trusted proxy (none by default; ``ORDERPILOT_TRUSTED_PROXIES``). Then the
list is read from the right, each trusted proxy adding its own hop, and the first address that
is not a trusted proxy is the client: addresses further left were written by the client itself.
``orderpilot serve`` turns uvicorn's own header handling off, so this is the only place where
the header counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, setting: str) -> TrustedProxies:
        """Comma-separated addresses or networks: ``10.0.0.5, 172.16.0.0/12, ::1``."""
        networks = []
        for part in setting.split(","):
            if part.strip():
                try:
                    networks.append(ipaddress.ip_network(part.strip(), strict=False))
                except ValueError as error:
                    raise ValueError(f"ORDERPILOT_TRUSTED_PROXIES: {part.strip()!r} is not an "
                                     f"address or network") from error
        return cls(networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client_of(self, peer: str, forwarded_for: str | None) -> str:
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop[:64]
        return hops[0][:64] if hops else peer  # every hop a proxy: the left-most is closest
