"""The outbound guard: the HTTP transport every connector request passes before leaving the hub.

For each request it checks the URL exactly as the client will send it against the allow-list
(scheme, host, port, path prefix), resolves the host once, refuses addresses no matching entry
permits (domain/outbound.py), and then connects to the very address it checked: the URL is
rewritten to that IP while the Host header and the TLS SNI and certificate check keep the
name, so no second lookup happens for a rebinding DNS answer to slip into. Each host name gets
its own connection pool, so a kept-alive TLS connection verified for one name never carries
another name's request.

Answers are asked for uncompressed and read no further than a byte limit, so neither a huge
nor a compressed answer can fill the hub's memory.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from ipaddress import ip_address

import httpx

from orderpilot.adapters.connectors.base import (
    AddressNotAllowed,
    HostNotAllowed,
    ResponseTooLarge,
    TransientError,
    mask_url,
)
from orderpilot.domain.outbound import (
    DEFAULT_PORTS,
    BadUrl,
    IpAddress,
    Origin,
    Target,
    address_refusal,
    check_host,
    refusal,
)

ALLOWLIST_SETTING = "ORDERPILOT_OUTBOUND_ALLOWLIST"
Resolver = Callable[[str, int], list[str]]
# Which address a request went to (set before the inner transport sees it; tests read it).
PINNED_ADDRESS = "orderpilot.pinned_address"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address HOST resolves to, in the resolver's order, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def target_of(url: httpx.URL) -> Target:
    """The request's destination as httpx will really send it; HostNotAllowed if not http(s)."""
    scheme = url.scheme
    if scheme not in DEFAULT_PORTS:
        raise HostNotAllowed(f"only http and https URLs may be called, not {scheme}:",
                             request={"url": str(url)})
    if url.userinfo:
        raise HostNotAllowed("user names and passwords in the URL are not allowed",
                             request={"url": mask_url(url)})
    try:
        host = check_host(url.raw_host.decode("ascii").lower())
    except (BadUrl, UnicodeDecodeError) as error:
        raise HostNotAllowed(str(error), request={"url": mask_url(url)}) from error
    path = url.raw_path.split(b"?", 1)[0].decode("ascii", errors="replace") or "/"
    return Target(scheme, host, url.port or DEFAULT_PORTS[scheme], path)


class OutboundGuard(httpx.BaseTransport):
    def __init__(self, origins: Sequence[Origin], *, max_response_bytes: int,
                 resolver: Resolver = system_resolver,
                 inner: httpx.BaseTransport | None = None,
                 verify: ssl.SSLContext | bool = True) -> None:
        """INNER replaces the network (a test's MockTransport); it still gets only requests
        that passed every check, with the checked address in extensions[PINNED_ADDRESS].
        VERIFY is the TLS trust (the system's CAs unless a test brings its own)."""
        self.origins, self.resolver, self.inner = tuple(origins), resolver, inner
        self.verify = verify
        self.max_response_bytes = max_response_bytes
        self._pools: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = target_of(request.url)
        message = refusal(target, self.origins, ALLOWLIST_SETTING)
        if message:
            raise HostNotAllowed(message, request={"url": mask_url(request.url)})
        addresses = self.checked_addresses(target, request)
        request.headers["Accept-Encoding"] = "identity"
        if self.inner is not None:
            request.extensions[PINNED_ADDRESS] = str(addresses[0])
            return self._limited(self.inner.handle_request(request), target)
        for address in addresses[:-1]:  # in the resolver's order, as a plain connect would
            try:
                return self._send_to(address, request, target)
            except httpx.ConnectError:  # nothing was sent; the next checked address may answer
                continue
        return self._send_to(addresses[-1], request, target)

    def _send_to(self, address: IpAddress, request: httpx.Request,
                 target: Target) -> httpx.Response:
        request.extensions[PINNED_ADDRESS] = str(address)
        response = self._pool_for(target.host).handle_request(
            _pinned(request, target, address))
        return self._limited(response, target)

    def checked_addresses(self, target: Target, request: httpx.Request) -> list[IpAddress]:
        """The addresses to connect to, each one checked against the policy (all of them must
        pass, so a name cannot smuggle one bad address among good ones)."""
        if target.ip is not None:
            addresses = [target.ip]
        else:
            try:
                addresses = [_address(a) for a in self.resolver(target.host, target.port)]
            except OSError as error:
                raise TransientError(f"cannot resolve {target.host}: {error}",
                                     request={"url": mask_url(request.url)}) from error
        message = address_refusal(target, self.origins, addresses)
        if message:
            raise AddressNotAllowed(message, request={"url": mask_url(request.url)})
        return addresses

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        if self.inner is not None:
            self.inner.close()

    def _pool_for(self, host: str) -> httpx.HTTPTransport:
        with self._lock:
            pool = self._pools.get(host)
            if pool is None:
                pool = self._pools[host] = httpx.HTTPTransport(verify=self.verify,
                                                               trust_env=False)
            return pool

    def _limited(self, response: httpx.Response, target: Target) -> httpx.Response:
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        declared = response.headers.get("Content-Length", "")
        problem = None
        if encoding not in ("", "identity"):
            problem = f"answered with Content-Encoding {encoding} although asked for identity"
        elif declared.isdigit() and int(declared) > self.max_response_bytes:
            problem = f"announced {declared} bytes"
        if problem:
            response.close()
            raise ResponseTooLarge(f"{target.host} {problem}; the hub reads at most "
                                   f"{self.max_response_bytes} uncompressed bytes")
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_CappedStream(response.stream, self.max_response_bytes,
                                                   target.host),
                              extensions=response.extensions)


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, limit: int, host: str) -> None:
        self.stream, self.limit, self.host = stream, limit, host

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self.stream:
            seen += len(chunk)
            if seen > self.limit:
                raise ResponseTooLarge(f"{self.host} answered with more than {self.limit} "
                                       f"bytes; the hub stopped reading")
            yield chunk

    def close(self) -> None:
        self.stream.close()


def _pinned(request: httpx.Request, target: Target, address: IpAddress) -> httpx.Request:
    """REQUEST sent to ADDRESS, still saying (Host header) and verifying (TLS) its name."""
    extensions = dict(request.extensions)
    if target.ip is None:
        extensions["sni_hostname"] = target.host
    return httpx.Request(request.method, request.url.copy_with(host=str(address)),
                         headers=request.headers, stream=request.stream,
                         extensions=extensions)


def _address(text: str) -> IpAddress:
    return ip_address(text.split("%", 1)[0])  # a scope (%eth0) says nothing about the range
