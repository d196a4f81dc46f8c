"""Automation rules: authoring and versions, the rule book, triggers, the runner, actions."""
