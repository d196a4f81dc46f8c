"""Thin entrypoints: HTTP API, console, CLI, workers."""
