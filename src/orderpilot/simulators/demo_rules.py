"""The demo's automation: the loopback simulators, the rule templates switched on, buyers
registered with the customs simulator, and customers contacting support now and then."""

from __future__ import annotations

import hashlib
import random
import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from orderpilot.bootstrap import Hub
from orderpilot.domain.rules.templates import TEMPLATE_BY_ID
from orderpilot.simulators.demo_history_returns import install_registers
from orderpilot.simulators.external.server import SimServer

log = structlog.get_logger("orderpilot.demo")
QUALIFIED_SHARE = 0.7  # buyers the customs filing service knows as qualified
# Returns (issue 13): S7 routing on SF + SMS (and the pickup after a person's decision), S8
# on Kingdee and the CRM.
RETURN_RULES = ("return-routing", "return-route-decided", "return-refund-credit-receivable",
                "two-returns-lower-level", "return-low-stock-replenish")
ENABLED = ("bonded-zone-customs-check", "support-contact-vip", "high-value-review",
           "promotion-high-intent", "unpaid-30min-reminder", *RETURN_RULES)
PAUSED = ("incomplete-address-hold",)  # the demo's staff hold such orders by hand


def start_simulators() -> SimServer:
    return SimServer().start()


def install_rules(hub: Hub, enabled: tuple[str, ...] = ENABLED,
                  paused: tuple[str, ...] = PAUSED) -> list[str]:
    """Install the demo's templates once (a second run keeps what staff changed); with a
    return template, first the return centres and policy the routing template reads (once:
    the history saves them first; a demo without history gets them here)."""
    if any(t in RETURN_RULES for t in (*enabled, *paused)):
        install_registers(hub, hub.clock)
    with hub.uow() as uow:
        installed = {r.template_id for r in uow.rules.listing()}
    hub.rules.ensure_default_sms_templates()
    made = []
    for template_id in (*enabled, *paused):
        if template_id not in installed and template_id in TEMPLATE_BY_ID:
            hub.rules.install_template(template_id, "demo", enable=template_id in enabled)
            made.append(template_id)
    return made


def qualified(phone: str) -> bool:
    digest = hashlib.sha256(phone.encode()).digest()
    return digest[0] < 256 * QUALIFIED_SHARE


class CustomsRegistrar:
    """Registers most buyers with the customs simulator before their order arrives, as the
    real filing service would already know them."""

    def __init__(self, sim_url: str) -> None:
        self.client = httpx.Client(base_url=sim_url, timeout=5)

    def __call__(self, body: dict[str, Any]) -> None:
        phone = str(body.get("customer", {}).get("phone", ""))
        if phone and qualified(phone):
            try:
                self.client.post("/_sim/customs/qualified", json={"phone": phone})
            except httpx.HTTPError:
                log.debug("demo_customs_register_failed")


def contact_support(base_url: str, token: str, stop: threading.Event, every: float = 20.0,
                    seed: int = 11) -> None:
    """Now and then a recent buyer asks customer service something (S14's trigger)."""
    rng = random.Random(seed)
    topics = ("物流什么时候到", "能否改地址", "发票怎么开", "赠品是否有货")
    with httpx.Client(base_url=base_url, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while not stop.wait(rng.uniform(every / 2, every * 1.5)):
            try:
                recent = client.get("/api/v1/orders", params={"limit": 20}).json()["items"]
                if not recent:
                    continue
                order = rng.choice(recent)
                client.post(f"/api/v1/orders/{order['id']}/events", json={
                    "type": "customer.contacted", "source": "crm",
                    "occurred_at": datetime.now(UTC).isoformat(),
                    "data": {"channel": "wechat", "topic": rng.choice(topics)}})
            except (httpx.HTTPError, KeyError, ValueError):
                log.debug("demo_contact_failed")
