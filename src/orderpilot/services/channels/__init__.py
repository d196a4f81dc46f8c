"""Sales channels: accounts, pushes, pulls and applying a platform's order to the canonical
order (issue 10). The platforms themselves are integrations (integrations/<platform>/)."""
