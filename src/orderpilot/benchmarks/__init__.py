"""Benchmarks printed as JSON by `orderpilot bench ...`."""
