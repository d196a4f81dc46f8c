"""No-code automation rules: triggers, conditions compiled to expressions, ordered actions.

Plain Python: the expressions are evaluated by an engine behind an interface in adapters/.
"""
