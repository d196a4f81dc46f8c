"""Console pages for returns (issue 13)."""
