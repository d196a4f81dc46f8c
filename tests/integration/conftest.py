"""Integration fixtures shared across modules (the rules engine's simulators and hub)."""

from integration.rules_support import client, rules_hub, sim

__all__ = ["client", "rules_hub", "sim"]
