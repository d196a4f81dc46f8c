"""Return routing (migration 0019): return centres, the versioned return policy (carrier
outlet -> return centre) and each return's route (the address it goes back to, the customer's
own address kept for audit, the pickup window, or why a person must decide)."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

return_centres = sa.Table(
    "return_centres", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name_zh", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("country", sa.String(200), nullable=False),
    sa.Column("province", sa.String(200), nullable=False),
    sa.Column("city", sa.String(200), nullable=False),
    sa.Column("district", sa.String(200), nullable=False),
    sa.Column("line1", sa.String(200), nullable=False),
    sa.Column("postal_code", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

return_policy_versions = sa.Table(
    "return_policy_versions", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

return_policy_rows = sa.Table(
    "return_policy_rows", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("outlet_code", sa.String(64), primary_key=True),
    sa.Column("return_centre", sa.String(64), nullable=False),
)

return_routes = sa.Table(
    "return_routes", metadata,
    sa.Column("return_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(36), nullable=False, index=True),
    sa.Column("carrier", sa.String(32)),
    sa.Column("tracking_number", sa.String(64)),
    sa.Column("outlet_code", sa.String(100)),
    sa.Column("return_centre", sa.String(64)),
    sa.Column("address", sa.JSON),
    sa.Column("customer_address", sa.JSON),
    sa.Column("pickup_start", Time),
    sa.Column("pickup_end", Time),
    sa.Column("pickup_waybill", sa.String(64)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("decision_required", sa.Boolean, nullable=False),
    sa.Column("exception_reason", sa.String(64)),
    sa.Column("exception_zh", sa.String(500)),
    sa.Column("exception_en", sa.String(500)),
    sa.Column("policy_version", sa.Integer),
    sa.Column("routed_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # a person's decision on a return that needed one (migration 0021): "centre" (they picked
    # it) or "retry" (route again by the policy), who, when and why
    sa.Column("decision", sa.String(16)),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", Time),
    sa.Column("decision_note", sa.String(500)),
    # whether the buyer's typed address already was the routed centre's address, decided when
    # the route (or its centre) is written; null when unknown (migration 0022)
    sa.Column("typed_address_matched", sa.Boolean),
)
# what the returns metrics read of each route, from the index alone (migration 0022)
sa.Index("ix_return_routes_metrics", return_routes.c.return_id,
         return_routes.c.decision_required, return_routes.c.exception_reason,
         return_routes.c.policy_version, return_routes.c.outlet_code,
         return_routes.c.return_centre, return_routes.c.typed_address_matched)
