"""Channel accounts, pushes, fetch jobs, platform orders and their quarantine, in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.adapters.outbox import _claim, insert_ignore
from orderpilot.adapters.pg_wake import CHANNEL_JOBS, notify
from orderpilot.domain.channel_orders import Account, Tokens
from orderpilot.domain.records import JsonObject
from orderpilot.services.channels.ports import ChannelOrderRow, JobRow, JobState, QuarantinedRow

_ACCOUNT = sa.select(t.channel_accounts).where(t.channel_accounts.c.code == sa.bindparam("code"))
_CHANNEL_ORDER = sa.select(t.channel_orders).where(
    t.channel_orders.c.account == sa.bindparam("account"),
    t.channel_orders.c.external_id == sa.bindparam("external_id"))


def account_from_row(r: Any) -> Account:
    return Account(code=r.code, platform=r.platform, shop_id=r.shop_id, region=r.region,
                   base_url=r.base_url, callback_url=r.callback_url,
                   credentials=dict(r.credentials or {}),
                   tokens=Tokens(r.access_token, r.refresh_token, r.token_expires_at,
                                 r.refresh_expires_at),
                   currency=r.currency)


class ChannelStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # accounts ------------------------------------------------------------------------------

    def account(self, code: str) -> Account | None:
        row = self.conn.execute(_ACCOUNT, {"code": code}).first()
        return None if row is None else account_from_row(row)

    def account_row(self, code: str) -> dict[str, Any] | None:
        row = self.conn.execute(_ACCOUNT, {"code": code}).first()
        return None if row is None else dict(row._mapping)

    def account_rows(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(
            sa.select(t.channel_accounts).order_by(t.channel_accounts.c.code))]

    def shop_taken(self, platform: str, shop_id: str, code: str) -> str | None:
        """The code of another account for this platform shop, if any."""
        a = t.channel_accounts.c
        return self.conn.execute(sa.select(a.code).where(a.platform == platform,
                                                         a.shop_id == shop_id,
                                                         a.code != code)).scalar()

    def put_account(self, code: str, values: JsonObject, now: datetime) -> bool:
        """Insert or update; True when the account is new."""
        exists = self.conn.execute(_ACCOUNT, {"code": code}).first() is not None
        if exists:
            self.conn.execute(t.channel_accounts.update()
                              .where(t.channel_accounts.c.code == code)
                              .values(**values, updated_at=now))
        else:
            self.conn.execute(t.channel_accounts.insert().values(
                code=code, **values, created_at=now, updated_at=now))
        return not exists

    def delete_account(self, code: str) -> bool:
        return self.conn.execute(t.channel_accounts.delete()
                                 .where(t.channel_accounts.c.code == code)).rowcount == 1

    def save_tokens(self, code: str, tokens: Tokens, now: datetime) -> None:
        self.conn.execute(t.channel_accounts.update().where(t.channel_accounts.c.code == code)
                          .values(access_token=tokens.access_token,
                                  refresh_token=tokens.refresh_token,
                                  token_expires_at=tokens.expires_at,
                                  refresh_expires_at=tokens.refresh_expires_at,
                                  updated_at=now))

    def note_push(self, code: str, now: datetime, *, refusal: str | None = None,
                  count: int = 1) -> None:
        a = t.channel_accounts.c
        if refusal is None:
            values: JsonObject = {"pushes_taken": a.pushes_taken + count, "last_push_at": now}
        else:
            values = {"pushes_refused": a.pushes_refused + 1, "last_refused_at": now,
                      "last_refusal": refusal[:500]}
        self.conn.execute(t.channel_accounts.update().where(a.code == code).values(**values))

    def note_error(self, code: str, now: datetime, message: str) -> None:
        a = t.channel_accounts.c
        self.conn.execute(t.channel_accounts.update().where(a.code == code).values(
            errors=a.errors + 1, last_error_at=now, last_error=message[:1000]))

    def note_pull(self, code: str, now: datetime, summary: JsonObject,
                  watermark: datetime | None) -> None:
        values: JsonObject = {"last_pull_at": now, "last_pull": summary}
        if watermark is not None:
            values["pull_watermark"] = watermark
        self.conn.execute(t.channel_accounts.update()
                          .where(t.channel_accounts.c.code == code).values(**values))

    def due_pulls(self, now: datetime) -> list[tuple[str, datetime | None]]:
        """Enabled accounts whose catch-up pull is due: (code, watermark)."""
        a = t.channel_accounts.c
        rows = self.conn.execute(sa.select(a.code, a.pull_watermark, a.last_pull_at,
                                           a.pull_every_minutes).where(a.enabled.is_(True)))
        return [(r.code, r.pull_watermark) for r in rows
                if r.pull_every_minutes > 0 and (
                    r.last_pull_at is None
                    or r.last_pull_at + timedelta(minutes=r.pull_every_minutes) <= now)]

    # pushes and jobs ----------------------------------------------------------------------

    def add_push(self, code: str, push_key: str, body: str, notices: int,
                 now: datetime) -> bool:
        return insert_ignore(self.conn, t.channel_pushes, {
            "account": code, "push_key": push_key[:200], "received_at": now,
            "body": body.replace("\x00", "\\u0000"), "notices": notices})

    def add_job(self, key: str, code: str, external_id: str, origin: str,
                raw: JsonObject | None, now: datetime) -> bool:
        added = insert_ignore(self.conn, t.channel_jobs, {
            "key": key[:300], "account": code, "external_id": external_id[:64],
            "origin": origin, "raw": None if raw is None else dumps(raw),
            "status": "pending", "attempts": 0,
            "available_at": now, "created_at": now})
        if added:  # the channel workers of every process wake at the commit
            notify(self.conn, CHANNEL_JOBS)
        return added

    def claim_jobs(self, worker: str, limit: int, lease: timedelta,
                   now: datetime) -> list[JobRow]:
        claims = _claim(self.conn, t.channel_jobs, t.channel_jobs.c.available_at, worker,
                        limit, lease, now, id_column="key")
        if not claims:
            return []
        j = t.channel_jobs.c
        rows = self.conn.execute(sa.select(j.seq, j.key, j.account, j.external_id, j.origin,
                                           j.raw, j.attempts)
                                 .where(j.seq.in_([c.seq for c in claims])).order_by(j.seq))
        return [JobRow(r.seq, r.key, r.account, r.external_id, r.origin,
                       None if r.raw is None else read_json(r.raw, "job.raw"), r.attempts)
                for r in rows]

    def finish_jobs(self, seqs: Sequence[int], now: datetime, *, status: str = "done",
                    error: str | None = None) -> None:
        if seqs:
            self.conn.execute(t.channel_jobs.update().where(t.channel_jobs.c.seq.in_(seqs))
                              .values(status=status, done_at=now, claimed_by=None,
                                      claimed_until=None, last_error=error, raw=None))

    def retry_jobs(self, seqs: Sequence[int], error: str, at: datetime) -> None:
        if seqs:
            j = t.channel_jobs.c
            self.conn.execute(t.channel_jobs.update().where(j.seq.in_(seqs)).values(
                attempts=j.attempts + 1, available_at=at, claimed_by=None,
                claimed_until=None, last_error=error[:2000]))

    def requeue_job(self, seq: int, now: datetime) -> bool:
        """A job that gave up (``dead``) pending again now, its attempts counted afresh (its
        order is fetched from the platform again: a dead job's payload is not kept); False
        when the job is not dead."""
        j = t.channel_jobs.c
        requeued = bool(self.conn.execute(t.channel_jobs.update().where(
            j.seq == seq, j.status == "dead").values(
            status="pending", attempts=0, available_at=now, done_at=None, claimed_by=None,
            claimed_until=None)).rowcount)
        if requeued:
            notify(self.conn, CHANNEL_JOBS)
        return requeued

    def job_counts(self) -> dict[tuple[str, str], int]:
        j = t.channel_jobs.c
        return {(r.account, r.status): r.n for r in self.conn.execute(
            sa.select(j.account, j.status, sa.func.count().label("n"))
            .group_by(j.account, j.status))}

    # platform orders ----------------------------------------------------------------------

    def channel_order(self, code: str, external_id: str) -> ChannelOrderRow | None:
        row = self.conn.execute(_CHANNEL_ORDER, {"account": code,
                                                 "external_id": external_id}).first()
        return None if row is None else ChannelOrderRow(
            row.order_id, row.platform_status, row.platform_updated_at, row.raw_hash)

    def channel_order_of(self, order_id: str) -> tuple[str, str] | None:
        """The (account, platform order id) the hub's ORDER_ID came from, if a channel's."""
        c = t.channel_orders.c
        row = self.conn.execute(sa.select(c.account, c.external_id)
                                .where(c.order_id == order_id).limit(1)).first()
        return None if row is None else (str(row.account), str(row.external_id))

    def put_channel_order(self, code: str, external_id: str, values: JsonObject,
                          now: datetime) -> None:
        updated = self.conn.execute(t.channel_orders.update().where(
            t.channel_orders.c.account == code, t.channel_orders.c.external_id == external_id)
            .values(**values, updated_at=now)).rowcount
        if not updated:
            self.conn.execute(t.channel_orders.insert().values(
                account=code, external_id=external_id, **values, updated_at=now))

    def add_raw(self, order_id: str, source: str, version: str, payload: object,
                now: datetime) -> None:
        self.conn.execute(t.raw_payloads.insert(), {
            "order_id": order_id, "source": source, "version": version, "received_at": now,
            "payload": payload})

    # quarantine ---------------------------------------------------------------------------

    def quarantine(self, code: str, platform: str, external_id: str, field: str | None,
                   reason: str, reason_zh: str, raw: str, now: datetime) -> int:
        """Keep RAW with the reason; the same order held for the same reason again (a
        platform pushing it once more) updates the held row instead of adding one."""
        q = t.channel_quarantine.c
        if external_id:
            held = self.conn.execute(sa.select(q.seq).where(
                q.account == code, q.external_id == external_id[:64], q.status == "held",
                q.reason == reason[:1000])).scalar()
            if held is not None:
                self.conn.execute(t.channel_quarantine.update().where(q.seq == held).values(
                    raw=raw.replace("\x00", "\\u0000"), received_at=now))
                return int(held)
        return int(self.conn.execute(t.channel_quarantine.insert().values(
            account=code, platform=platform, external_id=external_id[:64],
            field=field[:200] if field else None, reason=reason[:1000],
            reason_zh=reason_zh[:1000], raw=raw.replace("\x00", "\\u0000"),
            received_at=now, status="held").returning(t.channel_quarantine.c.seq)).scalar_one())

    def quarantined(self, seq: int) -> QuarantinedRow | None:
        q = t.channel_quarantine.c
        row = self.conn.execute(sa.select(q.seq, q.account, q.platform, q.external_id, q.raw,
                                          q.status).where(q.seq == seq)).first()
        return None if row is None else QuarantinedRow(*row)

    def returns_watermark(self, code: str) -> datetime | None:
        a = t.channel_accounts.c
        value: datetime | None = self.conn.execute(
            sa.select(a.returns_watermark).where(a.code == code)).scalar()
        return value

    def note_returns_pull(self, code: str, watermark: datetime) -> None:
        self.conn.execute(t.channel_accounts.update().where(t.channel_accounts.c.code == code)
                          .values(returns_watermark=watermark))

    def job(self, key: str) -> JobState | None:
        j = t.channel_jobs.c
        row = self.conn.execute(sa.select(j.status, j.attempts, j.last_error)
                                .where(j.key == key[:300])).first()
        return None if row is None else JobState(row.status, row.attempts, row.last_error)

    def revive_job(self, key: str, raw: JsonObject | None, now: datetime) -> bool:
        """A dead job pending again (asked anew, e.g. a refund retried after the platform
        refused it); False when there is no dead job under KEY."""
        j = t.channel_jobs.c
        revived = bool(self.conn.execute(t.channel_jobs.update().where(
            j.key == key[:300], j.status == "dead").values(
            status="pending", attempts=0, available_at=now, last_error=None, done_at=None,
            raw=None if raw is None else dumps(raw))).rowcount)
        if revived:
            notify(self.conn, CHANNEL_JOBS)
        return revived

    def mark_replayed(self, seq: int, now: datetime) -> None:
        self.conn.execute(t.channel_quarantine.update()
                          .where(t.channel_quarantine.c.seq == seq)
                          .values(status="replayed", replayed_at=now))
