"""The settings version (migration 0034): one row whose number database triggers raise with
every change to the settings the dispatcher reads for each event (which expectations watch an
event type, which webhooks are active, the channels' stock strategies, the stock sources).

A dispatcher keeps what it read of them from one claimed batch to the next while the number
stands (services/unit_of_work.SharedReads): one look-up a batch instead of about ten an order
on PostgreSQL. Triggers, not the repositories, raise it, so that no writer is missed: another
process, a migration, an operator's SQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import metadata

settings_version = sa.Table(
    "settings_version", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("n", sa.BigInteger, nullable=False),
)

# The tables whose changes raise it (the migration's triggers).
WATCHED = ("expectations", "webhook_subscriptions", "inventory_strategies", "inventory_sources")
