"""Analytics over the hub's history: a columnar snapshot in duckdb (``snapshot.py``) and the
queries that diagnosis, expectations, reconciliation and the walkthrough run on it."""
