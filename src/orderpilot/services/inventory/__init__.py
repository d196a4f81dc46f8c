"""Multi-source inventory: allocation, level sync and pulls, sheet import, promotion quotas."""
