"""Console screens for rules: list, builder, runs, messages, decision tables."""
