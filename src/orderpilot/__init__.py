"""orderpilot: one canonical order lifecycle fed by every system."""

__version__ = "0.1.0"
