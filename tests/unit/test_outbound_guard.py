"""The outbound guard: scheme + host + port + path entries, resolved addresses checked and pinned,
redirects as failures, answers read to a limit and stored masked and cut."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from integration.loopback import Listener
from orderpilot.adapters.connectors import (
    AddressNotAllowed,
    Connectors,
    HostNotAllowed,
    PermanentError,
    Redirected,
    ResponseTooLarge,
)
from orderpilot.adapters.connectors.base import stored
from orderpilot.adapters.connectors.guard import PINNED_ADDRESS, OutboundGuard
from orderpilot.config import Settings
from orderpilot.domain.outbound import parse_origin

PUBLIC = "93.184.216.34"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


def mocked(seen: list[httpx.Request], resolve: dict[str, list[str]] | None = None,
           answer: httpx.Response | None = None, **values: Any) -> Connectors:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer if answer is not None else httpx.Response(200, json={"ok": True})

    def resolver(host: str, port: int) -> list[str]:
        return (resolve or {}).get(host, [PUBLIC])

    return Connectors.from_settings(settings(**values), transport=httpx.MockTransport(handler),
                                    resolver=resolver)


def call(connectors: Connectors, url: str) -> Any:
    try:
        return connectors.http_call("POST", url, json_body={"order": "O-1"},
                                    idempotency_key="r1:s1")
    finally:
        connectors.close()


def test_another_port_of_an_allowed_host_is_refused(seen: list[httpx.Request]) -> None:
    connectors = mocked(seen, sim_url="http://127.0.0.1:18600")
    with pytest.raises(HostNotAllowed, match="5432") as refused:
        call(connectors, "http://127.0.0.1:5432/")
    assert "http://127.0.0.1:18600" in refused.value.message
    assert seen == []


def test_another_scheme_of_an_allowed_host_is_refused(seen: list[httpx.Request]) -> None:
    connectors = mocked(seen, outbound_allowlist="https://erp.example.com")
    with pytest.raises(HostNotAllowed, match="https://erp.example.com"):
        call(connectors, "http://erp.example.com/orders")
    assert seen == []


def test_a_bare_or_wildcard_entry_means_https_on_443_only(seen: list[httpx.Request]) -> None:
    for url in ("https://erp.example.com:8443/x", "http://wms.example.cn/x"):
        with pytest.raises(HostNotAllowed):
            call(mocked(seen, outbound_allowlist="erp.example.com, *.example.cn"), url)
    call(mocked(seen, outbound_allowlist="erp.example.com, *.example.cn"),
         "https://wms.example.cn/x")
    assert [str(r.url) for r in seen] == ["https://wms.example.cn/x"]


@pytest.mark.parametrize("url", [
    "https://api.example.com:8443/admin", "https://api.example.com:8443/hookshot",
    "https://api.example.com:8443/hooks/%2e%2e/admin", "https://api.example.com/hooks/order",
    "https://api.example.com:8443/hooks/../admin"])
def test_a_path_prefix_is_enforced(seen: list[httpx.Request], url: str) -> None:
    connectors = mocked(seen, outbound_allowlist="https://api.example.com:8443/hooks/")
    with pytest.raises(HostNotAllowed):
        call(connectors, url)
    assert seen == []


def test_a_path_under_the_prefix_is_called(seen: list[httpx.Request]) -> None:
    connectors = mocked(seen, outbound_allowlist="https://api.example.com:8443/hooks/")
    result = call(connectors, "https://api.example.com:8443/hooks/order?id=7")
    assert result.status_code == 200
    assert seen[0].url.path == "/hooks/order"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254",
                                     "::ffff:127.0.0.1", "fd00::1", "0.0.0.0"])
def test_a_name_resolving_to_a_non_public_address_is_refused(
        seen: list[httpx.Request], address: str) -> None:
    connectors = mocked(seen, {"hook.example.com": [PUBLIC, address]},
                        outbound_allowlist="*.example.com")
    with pytest.raises(AddressNotAllowed, match="hook.example.com resolves to"):
        call(connectors, "https://hook.example.com/x")
    assert seen == []


def test_the_system_resolver_is_what_is_checked(seen: list[httpx.Request],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    connectors = Connectors.from_settings(
        settings(outbound_allowlist="*.example.com"),
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)))
    with pytest.raises(AddressNotAllowed, match="169.254.169.254"):
        call(connectors, "https://metadata.example.com/latest")
    assert seen == []


def test_an_exact_host_may_be_private_but_never_cloud_metadata(
        seen: list[httpx.Request]) -> None:
    resolve = {"erp.corp.example": ["10.0.0.5"], "meta.corp.example": ["169.254.169.254"]}
    allow = "https://erp.corp.example, https://meta.corp.example"
    call(mocked(seen, resolve, outbound_allowlist=allow), "https://erp.corp.example/x")
    assert seen[0].extensions[PINNED_ADDRESS] == "10.0.0.5"
    with pytest.raises(AddressNotAllowed, match="169.254.169.254 itself"):
        call(mocked(seen, resolve, outbound_allowlist=allow), "https://meta.corp.example/x")
    assert len(seen) == 1


def test_the_host_is_resolved_once_per_call(seen: list[httpx.Request]) -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    connectors = Connectors.from_settings(
        settings(outbound_allowlist="*.example.com"),
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
        resolver=rebinding)
    call(connectors, "https://hook.example.com/x")
    assert lookups == ["hook.example.com"]
    assert seen[0].extensions[PINNED_ADDRESS] == PUBLIC


def test_refused_before_connecting_to_a_port_off_the_list() -> None:
    with Listener() as listener:
        connectors = Connectors.from_settings(settings(sim_url=f"http://127.0.0.1:{free_port()}"))
        with pytest.raises(HostNotAllowed, match=str(listener.port)):
            call(connectors, f"http://127.0.0.1:{listener.port}/steal")
        connectors = Connectors.from_settings(settings(sim_url=f"http://127.0.0.1:{free_port()}"))
        with pytest.raises(HostNotAllowed):
            call(connectors, f"http://[::ffff:127.0.0.1]:{listener.port}/steal")
    assert listener.connections == 0


def test_an_ip_literal_on_the_list_is_called() -> None:
    with Listener() as listener:
        connectors = Connectors.from_settings(
            settings(outbound_allowlist=f"http://127.0.0.1:{listener.port}/hooks"))
        result = call(connectors, f"http://127.0.0.1:{listener.port}/hooks/a")
    assert result.status_code == 200 and result.output == {"ok": True}
    assert listener.hosts == [f"127.0.0.1:{listener.port}"]


def test_the_connection_goes_to_the_checked_address_under_the_name() -> None:
    """erp.invalid exists nowhere: the request can only arrive if the client connected to the
    address the guard resolved and checked, without asking DNS again."""
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    with Listener() as listener:
        connectors = Connectors.from_settings(
            settings(outbound_allowlist=f"http://erp.invalid:{listener.port}"),
            resolver=resolver)
        result = call(connectors, f"http://erp.invalid:{listener.port}/orders")
    assert result.status_code == 200
    assert listener.hosts == [f"erp.invalid:{listener.port}"]
    assert lookups == ["erp.invalid"]


def test_a_redirect_fails_the_call_naming_the_location(seen: list[httpx.Request]) -> None:
    moved = httpx.Response(302, headers={"Location": "https://evil.example.net/x?m=13812345678"})
    connectors = mocked(seen, answer=moved, outbound_allowlist="https://erp.example.com")
    with pytest.raises(Redirected) as failed:
        call(connectors, "https://erp.example.com/orders")
    assert "302" in failed.value.message
    assert "https://evil.example.net/x?m=138****5678" in failed.value.message
    assert len(seen) == 1


def test_a_real_redirect_is_a_failure_not_a_success() -> None:
    with Listener(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"}) as listener:
        connectors = Connectors.from_settings(
            settings(outbound_allowlist=f"http://127.0.0.1:{listener.port}"))
        with pytest.raises(Redirected, match="127.0.0.1:1/elsewhere"):
            call(connectors, f"http://127.0.0.1:{listener.port}/go")
    assert listener.connections == 1


def test_a_long_answer_is_stored_cut_and_masked(seen: list[httpx.Request]) -> None:
    items = [{"name": "张三丰", "phone": "13812345678", "address": "广东省深圳市南山区科技园1号",
              "note": f"call +86 13912345678 about {i}", "id": i} for i in range(2000)]
    connectors = mocked(seen, answer=httpx.Response(200, json={"items": items}),
                        outbound_allowlist="https://erp.example.com")
    result = call(connectors, "https://erp.example.com/orders")
    assert len(result.response["items"]) == 2000  # whole for the rule's own output mapping
    kept = result.stored_response
    assert isinstance(kept, str) and len(kept.encode()) < 16 * 1024 + 100
    assert kept.endswith("[cut: the answer is longer than 16384 bytes]")
    for secret in ("13812345678", "13912345678", "张三丰", "科技园1号"):
        assert secret not in kept
    assert "138****5678" in kept


def test_a_short_answer_is_stored_whole_but_masked(seen: list[httpx.Request]) -> None:
    answer = httpx.Response(400, json={"error": "bad", "receiver": {"phone": "13812345678",
                                                                     "name": "李四"}})
    connectors = mocked(seen, answer=answer, outbound_allowlist="https://erp.example.com")
    with pytest.raises(PermanentError) as failed:
        call(connectors, "https://erp.example.com/orders")
    assert failed.value.stored_response == {"error": "bad",
                                            "receiver": {"phone": "138****5678", "name": "李*"}}
    assert "13812345678" not in failed.value.message


def test_an_endless_answer_is_read_no_further_than_the_limit(seen: list[httpx.Request]) -> None:
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        for _ in range(20 * 1024):  # 20 MiB if nothing stopped reading
            produced.append(1024)
            yield b"x" * 1024

    answer = httpx.Response(200, content=endless())
    connectors = mocked(seen, answer=answer, outbound_allowlist="https://erp.example.com",
                        outbound_response_max_bytes=64 * 1024)
    with pytest.raises(ResponseTooLarge, match="65536"):
        call(connectors, "https://erp.example.com/export")
    assert sum(produced) <= 65 * 1024


def test_a_compressed_answer_is_refused(seen: list[httpx.Request]) -> None:
    answer = httpx.Response(200, content=gzip.compress(b"0" * 10_000_000),
                            headers={"Content-Encoding": "gzip"})
    connectors = mocked(seen, answer=answer, outbound_allowlist="https://erp.example.com")
    with pytest.raises(ResponseTooLarge, match="gzip"):
        call(connectors, "https://erp.example.com/export")
    assert seen[0].headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("entry", ["ftp://files.example.com", "http://u:p@erp.example.com",
                                   "erp.example.com:8443", "*", "*.com", "127.1",
                                   "https://erp.example.com/a?b=1", "https://x.example.com/../"])
def test_a_bad_allow_list_entry_is_a_settings_error(entry: str) -> None:
    with pytest.raises(ValidationError, match="ORDERPILOT_OUTBOUND_ALLOWLIST"):
        settings(outbound_allowlist=f"https://ok.example.com, {entry}")


def test_a_bad_connector_base_url_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="gopher"):
        settings(helpdesk_url="gopher://helpdesk.example.com")
    with pytest.raises(ValidationError, match="erp"):
        settings(http_connectors=json.loads('{"erp": "file:///etc"}'))


def test_configured_base_urls_are_allowed_as_exactly_themselves(
        seen: list[httpx.Request]) -> None:
    values = {"helpdesk_url": "https://hd.example.org/api", "helpdesk_token": "t"}
    call(mocked(seen, **values), "https://hd.example.org/api/tickets")
    for url in ("https://hd.example.org/admin", "http://hd.example.org/api/tickets",
                "https://hd.example.org:444/api/tickets"):
        with pytest.raises(HostNotAllowed):
            call(mocked(seen, **values), url)
    assert len(seen) == 1


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate it signed for erp.invalid (made with openssl)."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=orderpilot test CA")
    openssl("req", *key, "-keyout", "erp.key", "-out", "erp.csr", "-subj", "/CN=erp.invalid")
    (folder / "san.ext").write_text("subjectAltName=DNS:erp.invalid\n")
    openssl("x509", "-req", "-in", "erp.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "erp.pem", "-days", "1", "-extfile", "san.ext")
    return folder / "ca.pem", folder / "erp.pem", folder / "erp.key"


def test_tls_to_the_pinned_address_still_names_and_verifies_the_host(tmp_path: Path) -> None:
    ca, cert, key = certificates(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    trust = ssl.create_default_context(cafile=str(ca))
    with Listener(tls=server_side) as listener:
        allowed = (f"https://erp.invalid:{listener.port}", f"https://other.invalid:{listener.port}")
        guard = OutboundGuard([parse_origin(entry) for entry in allowed],
                              resolver=lambda host, port: ["127.0.0.1"],
                              max_response_bytes=1 << 20, verify=trust)
        with httpx.Client(transport=guard) as client:
            answer = client.post(f"https://erp.invalid:{listener.port}/orders", json={})
            assert answer.status_code == 200
            # The same address under a name the certificate does not carry: refused by TLS.
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                client.post(f"https://other.invalid:{listener.port}/orders", json={})
    assert listener.server_names[0] == "erp.invalid"
    assert listener.hosts == [f"erp.invalid:{listener.port}"]


def test_a_second_checked_address_is_tried_when_the_first_refuses() -> None:
    """localhost often resolves to ::1 first while a service listens on 127.0.0.1 only."""
    with Listener() as listener:
        connectors = Connectors.from_settings(
            settings(outbound_allowlist=f"http://svc.invalid:{listener.port}"),
            resolver=lambda host, port: ["::1", "127.0.0.1"])
        result = call(connectors, f"http://svc.invalid:{listener.port}/orders")
    assert result.status_code == 200
    assert listener.hosts == [f"svc.invalid:{listener.port}"]


def test_a_cut_never_leaves_half_a_phone_number() -> None:
    for offset in range(12):
        text = "x" * (1000 - offset) + " 13812345678 and more"
        kept = stored(text, 1000)
        assert isinstance(kept, str) and "[cut:" in kept
        assert "1381234" not in kept and "12345678" not in kept, offset
        kept = stored({"note": text, "rest": list(range(100))}, 1000)
        assert "1381234" not in kept and "12345678" not in kept, offset
