"""The edges: database, outbox, Excel, logging, metrics."""
