"""Console screens for inventory: levels, sources, sheets, promotion quotas."""
