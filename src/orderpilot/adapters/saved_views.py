"""A person's saved views of a list (table ``saved_views``): the page (``orders``, the orders
list; ``exceptions``, the exception workbench), a name and the filter's query string. Saving
under a name already used on that page replaces that view."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.orders import iso

MAX_VIEWS = 50  # per person and page
PAGES = ("orders", "exceptions")
v = t.saved_views


def list_views(conn: Connection, user_id: str, page: str = "orders") -> list[dict[str, Any]]:
    return [{"id": r.id, "name": r.name, "query": r.query, "created_at": iso(r.created_at)}
            for r in conn.execute(sa.select(v).where(v.c.user_id == user_id, v.c.page == page)
                                  .order_by(v.c.name))]


def save_view(conn: Connection, user_id: str, name: str, query: str,
              now: datetime, page: str = "orders") -> str | None:
    """The view's id; None when the person already has MAX_VIEWS others on the page."""
    mine = (v.c.user_id == user_id, v.c.page == page)
    same = conn.execute(sa.select(v.c.id).where(*mine, v.c.name == name)).scalar_one_or_none()
    if same is not None:
        conn.execute(v.update().where(v.c.id == same).values(query=query, created_at=now))
        return str(same)
    held = conn.execute(sa.select(sa.func.count()).select_from(v).where(*mine)).scalar_one()
    if held >= MAX_VIEWS:
        return None
    view_id = str(uuid.uuid4())
    conn.execute(v.insert().values(id=view_id, user_id=user_id, page=page, name=name,
                                   query=query, created_at=now))
    return view_id


def delete_view(conn: Connection, user_id: str, view_id: str, page: str = "orders") -> bool:
    """Only the person's own view of the page; False when there is none."""
    return conn.execute(v.delete().where(v.c.id == view_id, v.c.user_id == user_id,
                                         v.c.page == page)).rowcount == 1
