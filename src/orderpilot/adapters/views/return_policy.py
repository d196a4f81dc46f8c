"""Return centres and the return policy (current and history) as the API and console show
them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.return_routing import ReturnRoutingRepository, centre_from_row
from orderpilot.adapters.tables_return_routing import (
    return_centres,
    return_policy_rows,
    return_policy_versions,
)
from orderpilot.adapters.views.orders import iso


def centres(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(return_centres).order_by(return_centres.c.code))
    return [{**centre_from_row(r).dump(), "updated_by": r.updated_by,
             "updated_at": iso(r.updated_at)} for r in rows]


def policy(conn: Connection, version: int | None = None) -> dict[str, Any]:
    """The policy at VERSION (the current one by default) with the version history."""
    v, p = return_policy_versions, return_policy_rows
    counts = {int(number): int(n) for number, n in conn.execute(
        sa.select(p.c.version, sa.func.count()).group_by(p.c.version))}
    history = [{"version": r.version, "created_by": r.created_by,
                "created_at": iso(r.created_at), "rows": int(counts.get(r.version, 0))}
               for r in conn.execute(sa.select(v).order_by(v.c.version.desc()))]
    current = history[0]["version"] if history else None
    shown = version if version is not None else current
    mapping = ReturnRoutingRepository(conn).policy(shown) if shown is not None else {}
    return {"version": shown, "current_version": current,
            "rows": [{"outlet_code": o, "return_centre": c} for o, c in mapping.items()],
            "versions": history}
