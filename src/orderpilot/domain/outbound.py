"""Which outside addresses the hub may call: the outbound allow-list and the address policy.

An allow-list entry is an origin: scheme + host + port, optionally a path prefix.

    https://erp.example.com              https on 443, any path
    https://api.example.com:8443/hooks/  https on 8443, paths under /hooks/
    http://127.0.0.1:8765                that loopback port and nothing else
    *.example.com                        any sub-domain, https on 443 only
    erp.example.com                      that host, https on 443 only

Only http and https exist here. A name is checked again at call time against the addresses it
resolves to: loopback, private, link-local, unique-local, unspecified, multicast and other
non-public addresses are refused unless the entry names that IP literal, or (for loopback and
private networks, where in-house systems live) that exact host. Link-local (cloud metadata at
169.254.169.254), unspecified and multicast addresses are reachable only through an entry that
is the IP literal itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from orderpilot.domain.errors import BadUrl as BadUrl  # raised here; named here too

DEFAULT_PORTS = {"http": 80, "https": 443}
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Characters that make URL parsers disagree (the "https://ok.com\@evil.com" family).
_AMBIGUOUS = re.compile(r"[\s\\\x00-\x1f\x7f]")
_ENCODED_DOT_OR_SLASH = re.compile(r"%(2e|2f|5c)", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# What a name may resolve to when its exact host is on the list (in-house systems).
NAMED_PRIVATE_OK = ("loopback", "private")


@dataclass(frozen=True)
class Target:
    """Where a request goes, as the HTTP client will send it."""

    scheme: str
    host: str  # lowercase ASCII name, or an IP literal without brackets
    port: int
    path: str  # raw (still percent-encoded), without the query

    @property
    def ip(self) -> IpAddress | None:
        return _ip(self.host)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class Origin:
    """One allow-list entry."""

    scheme: str
    host: str  # for a wildcard, the suffix after "*."
    port: int
    path: str = "/"
    wildcard: bool = False

    @property
    def ip(self) -> IpAddress | None:
        return None if self.wildcard else _ip(self.host)

    def matches(self, target: Target) -> bool:
        return (target.scheme == self.scheme and target.port == self.port
                and self.matches_host(target.host) and self.matches_path(target.path))

    def matches_host(self, host: str) -> bool:
        if self.wildcard:
            return _ip(host) is None and host.endswith("." + self.host)
        return host == self.host

    def matches_path(self, path: str) -> bool:
        if self.path == "/":
            return True
        if _has_dot_segment(path) or _ENCODED_DOT_OR_SLASH.search(path):
            return False  # a server may resolve these out of the prefix
        base = self.path.rstrip("/")
        return path == base or path.startswith(base + "/")

    def covers(self, other: Origin) -> bool:
        """Whether OTHER allows nothing more than this entry (the same host, a deeper path)."""
        return ((self.scheme, self.host, self.port, self.wildcard)
                == (other.scheme, other.host, other.port, other.wildcard)
                and self.matches_path(other.path))

    def permits_address(self, host: str, address: IpAddress) -> bool:
        """Whether this entry lets HOST be reached at ADDRESS (already matched by host)."""
        kind = address_kind(address)
        if kind is None:
            return True
        if self.ip is not None:
            return self.ip == address
        return not self.wildcard and self.host == host and kind in NAMED_PRIVATE_OK

    def __str__(self) -> str:
        host = "*." + self.host if self.wildcard else (
            f"[{self.host}]" if ":" in self.host else self.host)
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{'' if self.path == '/' else self.path}"


def parse_origin(entry: str) -> Origin:
    """An allow-list entry or a configured base URL as an Origin; BadUrl says what is wrong."""
    text = entry.strip()
    if not text:
        raise BadUrl("empty entry", zh="条目为空")
    wildcard = False
    if "://" not in text:
        if _ip(text) is not None and ":" in text:
            text = f"[{text.strip('[]')}]"
        elif "/" in text or ":" in text:
            raise BadUrl(f"{entry!r}: write the scheme when giving a port or path "
                         f"(https://host:port/path)",
                         zh=f"{entry!r}：指定端口或路径时请写明协议（https://host:port/path）")
        text = "https://" + text
    if "//*." in text:
        wildcard, text = True, text.replace("//*.", "//", 1)
    target = parse_target(text)
    if urlsplit(text).query or urlsplit(text).fragment or text.endswith(("?", "#")):
        raise BadUrl(f"{entry!r}: an entry has no query or fragment",
                     zh=f"{entry!r}：条目不能包含查询参数或片段")
    if _has_dot_segment(target.path) or _ENCODED_DOT_OR_SLASH.search(target.path):
        raise BadUrl(f"{entry!r}: the path prefix may not contain . or .. segments or "
                     f"encoded slashes", zh=f"{entry!r}：路径前缀不能包含 . 或 .. 段或编码的斜杠")
    if wildcard and (target.ip is not None or target.host.count(".") < 1):
        raise BadUrl(f"{entry!r}: a wildcard covers sub-domains of a registered name "
                     f"(*.example.com)",
                     zh=f"{entry!r}：通配符只能用于已注册域名的子域名（*.example.com）")
    return Origin(target.scheme, target.host, target.port, target.path, wildcard)


def parse_allowlist(text: str) -> tuple[Origin, ...]:
    """ORDERPILOT_OUTBOUND_ALLOWLIST: comma-separated entries; BadUrl names the bad one."""
    return tuple(parse_origin(part) for part in text.split(",") if part.strip())


def parse_target(url: str) -> Target:
    """A URL a rule or connector wants to call, refused unless it is plain http(s)."""
    if not isinstance(url, str) or not url:
        raise BadUrl("the URL is empty", zh="网址为空")
    if _AMBIGUOUS.search(_authority(url)):
        raise BadUrl(f"{url!r}: spaces, control characters and backslashes are not allowed "
                     f"before the path of a URL",
                     zh=f"{url!r}：网址的路径之前不能有空格、控制字符或反斜杠")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadUrl(f"{url!r}: not a valid URL ({error})",
                     zh=f"{url!r}：不是有效的网址（{error}）") from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadUrl(f"{url!r}: only http and https URLs may be called, not "
                     f"{scheme + ':' if scheme else 'a URL without a scheme'}",
                     zh=f"{url!r}：只能调用 http 和 https 网址")
    if "@" in parts.netloc:
        raise BadUrl(f"{url!r}: user names and passwords in the URL are not allowed; "
                     f"use the headers parameter",
                     zh=f"{url!r}：网址中不能包含用户名和密码，请使用 headers 参数")
    host = (parts.hostname or "").lower()
    if not host:
        raise BadUrl(f"{url!r}: the URL has no host", zh=f"{url!r}：网址缺少主机")
    return Target(scheme, check_host(host), port or DEFAULT_PORTS[scheme], parts.path or "/")


def check_host(host: str) -> str:
    """HOST if it is an IP literal or a plain ASCII DNS name; BadUrl otherwise."""
    address = _ip(host)
    if address is not None:
        return str(address)
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise BadUrl(f"host {host!r} is not a plain DNS name (letters, digits, hyphens; "
                     f"write international names in punycode, xn--...)",
                     zh=f"主机 {host!r} 不是普通的 DNS 名称（字母、数字、连字符；"
                        f"国际化域名请写成 punycode，xn--...）")
    if labels[-1].isdigit():
        raise BadUrl(f"host {host!r} looks like a number but is not an IP address",
                     zh=f"主机 {host!r} 看起来像数字，但不是 IP 地址")
    return host


def address_kind(address: IpAddress) -> str | None:
    """Why ADDRESS is not a public unicast address (None when it is)."""
    for candidate in (*_embedded_ipv4(address), address):
        kind = _kind(candidate)
        if kind is not None:
            return kind
    return None


def refusal(target: Target, origins: Sequence[Origin], allowlist_setting: str) -> str | None:
    """A message when no entry allows TARGET (None when one does)."""
    if any(origin.matches(target) for origin in origins):
        return None
    same_host = [o for o in origins if o.matches_host(target.host)]
    if same_host:
        return (f"{target} is not allowed: {target.host} is allowed only as "
                f"{', '.join(str(o) for o in same_host)} (scheme, port and path must match)")
    listed = ", ".join(str(o) for o in origins) or "nothing"
    return (f"host {target.host!r} is not on the outbound allow-list ({listed}); "
            f"add it to {allowlist_setting}")


def address_refusal(target: Target, origins: Iterable[Origin],
                    addresses: Sequence[IpAddress]) -> str | None:
    """A message when TARGET's host resolved to an address no matching entry permits."""
    matching = [o for o in origins if o.matches(target)]
    if not addresses:
        return f"{target.host} did not resolve to any address"
    for address in addresses:
        if not any(o.permits_address(target.host, address) for o in matching):
            kind = address_kind(address)
            what = (f"{address} is" if target.ip is not None
                    else f"{target.host} resolves to {address},")
            needs = ("an allow-list entry naming this exact host or address" if
                     kind in NAMED_PRIVATE_OK else f"an allow-list entry for {address} itself")
            return f"{what} a {kind} address; only {needs} may reach it"
    return None


def _kind(address: IpAddress) -> str | None:
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local (cloud metadata)"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL:
        return "unique-local"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def _embedded_ipv4(address: IpAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """IPv4 addresses an IPv6 one carries (mapped, 6to4, NAT64, IPv4-compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return tuple(found)


def _ip(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _authority(url: str) -> str:
    """The scheme and host part, where parsers disagree about odd characters."""
    scheme, separator, rest = url.partition("://")
    return scheme + separator + re.split(r"[/?#]", rest, maxsplit=1)[0]


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))
