"""One package per outside system: client, settings, mapping, simulator and a declaration
(``INTEGRATION``) of what it provides. See registry.py and docs/extending.md."""
