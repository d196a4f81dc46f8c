"""The integration registry: built-in systems, installed ones found by entry point, names
refused twice, and what the connectors facade makes of them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from orderpilot.adapters.connectors import Connectors, PermanentError
from orderpilot.config import Settings
from orderpilot.integrations.registry import (
    BUILT_IN,
    DuplicateIntegration,
    Integration,
    IntegrationRegistry,
)

NAMES = ("customs", "aliyun-sms", "tencent-sms", "helpdesk", "crm", "dingtalk", "wecom", "smtp",
         "wms", "youzan", "tiktok", "woocommerce", "lazada", "kingdee", "shopee",
         "sf_express", "shopify")


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class Nothing(BaseModel):
    pass


def declared(name: str, provides: frozenset[str] = frozenset()) -> Integration[Nothing]:
    return Integration(name=name, title_zh=name, title_en=name, provides=provides,
                       settings=Nothing, configure=lambda s: None)


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """A directory on the path where tests "install" a distribution with entry points."""
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("second_customs", None)


def install(site: Path, module: str, source: str, entry_point: str) -> None:
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[orderpilot.integrations]\n{entry_point}\n")


def test_the_built_in_systems_each_bring_a_simulator() -> None:
    registry = IntegrationRegistry.discover(installed=False)
    assert registry.names() == NAMES
    assert len(BUILT_IN) == len(registry)
    assert all(i.simulator is not None for i in registry)
    assert {i.name for i in registry.providing("http_connector")} == {
        "customs", "helpdesk", "crm"}


def test_a_name_taken_twice_is_refused_naming_both() -> None:
    with pytest.raises(DuplicateIntegration, match="'erp'.*<given erp> and <given erp>"):
        IntegrationRegistry.of(declared("erp"), declared("erp"))


def test_an_installed_package_is_found_and_may_not_reuse_a_built_in_name(
        installed: Path) -> None:
    install(installed, "second_customs", (
        "from pydantic import BaseModel\n"
        "from orderpilot.integrations.registry import Integration\n"
        "class Nothing(BaseModel):\n    pass\n"
        "INTEGRATION = Integration(name='customs', title_zh='海关', title_en='Customs',\n"
        "    provides=frozenset(), settings=Nothing, configure=lambda s: None)\n"),
        "customs = second_customs:INTEGRATION")
    assert IntegrationRegistry.discover(installed=False).names() == NAMES
    with pytest.raises(DuplicateIntegration,
                       match="orderpilot.integrations.customs and entry point customs"):
        IntegrationRegistry.discover()


def test_a_declaration_says_what_it_provides_in_known_words() -> None:
    with pytest.raises(ValueError, match="unknown capabilities.*'stock'"):
        declared("erp", frozenset({"stock"}))
    with pytest.raises(ValueError, match="HttpConnectorSettings"):
        declared("erp", frozenset({"http_connector"}))


def test_connector_names_come_from_the_registry_and_the_settings() -> None:
    connectors = Connectors.from_settings(settings(
        http_connectors={"erp": "https://erp.example.com"}))
    try:
        assert connectors.connector_names() == {"customs", "helpdesk", "crm", "erp"}
    finally:
        connectors.close()


def test_an_unconfigured_client_says_what_to_set_and_secrets_stay_hidden() -> None:
    connectors = Connectors.from_settings(settings(
        dingtalk_access_token="ding-token-value", dingtalk_secret="SECding-secret-value"))
    try:
        with pytest.raises(PermanentError, match="wecom is not configured: set "
                                                 "ORDERPILOT_WECOM_KEY"):
            connectors.client("wecom")
        with pytest.raises(PermanentError, match="no integration 'acme'"):
            connectors.client("acme")
        with pytest.raises(PermanentError, match="customs has no client"):
            connectors.client("customs")
        shown = repr(connectors.configured["dingtalk"])
        assert "ding-token-value" not in shown and "SECding-secret-value" not in shown
        assert connectors.client("dingtalk") is not None
    finally:
        connectors.close()


def test_with_the_simulator_every_built_in_system_is_configured() -> None:
    registry = IntegrationRegistry.discover(installed=False)
    assert set(registry.configured(settings(sim_url="http://127.0.0.1:9100"))) == set(NAMES)
    # Sales channels always know their production hosts: their shops are channel accounts.
    assert set(registry.configured(settings())) == {i.name for i in registry if i.channel}
