"""The rules hub and simulators (tests/integration/rules_support.py, a plugin of every test),
with the SF simulator cleared and the return-routing template installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orderpilot.bootstrap import Hub
from orderpilot.simulators.external.server import SimServer


@pytest.fixture
def routing_hub(rules_hub: Hub, sim: SimServer) -> Iterator[Hub]:
    sim.admin().delete("/_sim/sf_express")
    rules_hub.rules.install_template("return-routing", "ops", enable=True)
    yield rules_hub
