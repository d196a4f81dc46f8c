"""Three-way reconciliation over the snapshot, in duckdb: ``reconcile(cursor, since, until,
files=None) -> Result`` (domain/reconciliation.py says what each class means).

Each side is what its system reported through the integrations (events in the snapshot), or,
when a file is given for that side, what the file says instead:

* storefront: ``payment.succeeded`` ``data.amount`` / the settlement file's amount per order;
* ERP: ``erp.booked`` and ``erp.receivable_opened|closed`` (``data.bill_no``, ``data.amount``,
  from services/back_office/booking.py) / the receivable export's bills (which replace the
  receivables; whether the sale order was booked still comes from ``erp.booked``);
* WMS outbound (出库): ``wms.picked|packed`` or ``shipment.shipped`` reported by the WMS (a
  release to the warehouse, ``wms.released``, is not yet outbound) / the outbound sheet's rows
  (which also give quantities per SKU, compared with the hub's lines);
* carriers (always events): ``shipment.shipped|in_transit|delivered`` say the order left.

Orders are those placed in [since, until] (Shanghai business days). File rows are matched by
the hub's order id or the platform order number (with the channel when the file has one).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from orderpilot.adapters.analytics.reconcile_files import FileRows
from orderpilot.domain.reconciliation import (
    AMOUNT_TOLERANCE_CENTS,
    KINDS,
    Discrepancy,
    Finding,
    Result,
    cents_text,
    utc_bounds,
)

TYPES = ("payment.succeeded", "erp.booked", "erp.receivable_opened", "erp.receivable_closed",
         "wms.released", "wms.picked", "wms.packed", "shipment.shipped", "shipment.in_transit",
         "shipment.delivered", "return.requested", "return.received", "refund.succeeded",
         "order.cancelled")
_FILE_COLUMNS = {"erp": ("row", "order_ref", "channel", "bill_no", "amount", "closed"),
                 "wms": ("row", "order_ref", "channel", "sku", "quantity"),
                 "storefront": ("row", "order_ref", "channel", "amount")}
_SQL_TYPES = {"row": pa.int64(), "amount": pa.int64(), "quantity": pa.int64(),
              "closed": pa.bool_()}


def _scope(cur: duckdb.DuckDBPyConnection, since: date, until: date) -> None:
    """rc_scope: the period's orders; rc_facts: one row per order with what the events say
    (one pass over the events of those orders, nothing else materialised); rc_receivables:
    the receivable bills the ERP reported (a small share of the events)."""
    start, end = (b.replace(tzinfo=None) for b in utc_bounds(since, until))
    cur.execute("CREATE OR REPLACE TEMP TABLE rc_scope AS SELECT id, seq, channel, "
                "external_id, total_cents, status FROM orders "
                "WHERE placed_at >= ? AND placed_at < ?",
                [start, end])
    types = ", ".join(f"'{t}'" for t in TYPES)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE rc_facts AS
        WITH ev AS (
          SELECT e.order_seq,
            -- one CASE per event, one aggregate: 1 paid, 2 in the ERP, 4 WMS outbound,
            -- 8 left (carrier), 16 returned, 32 cancelled
            bit_or(CASE e.type WHEN 'payment.succeeded' THEN 1 WHEN 'erp.booked' THEN 2
              WHEN 'erp.receivable_opened' THEN 2 WHEN 'erp.receivable_closed' THEN 2
              WHEN 'wms.picked' THEN 4 WHEN 'wms.packed' THEN 4
              WHEN 'shipment.shipped' THEN CASE WHEN e.system = 'wms' THEN 12 ELSE 8 END
              WHEN 'shipment.in_transit' THEN 8 WHEN 'shipment.delivered' THEN 8
              WHEN 'return.requested' THEN 16 WHEN 'return.received' THEN 16
              WHEN 'refund.succeeded' THEN 16 WHEN 'order.cancelled' THEN 32 ELSE 0 END)
              AS flags,
            arg_max(e.amount_cents, e.seq) FILTER (WHERE e.type = 'payment.succeeded'
                                                  AND e.amount_cents IS NOT NULL) AS paid_cents
          FROM events e SEMI JOIN rc_scope s ON s.seq = e.order_seq
          WHERE e.type IN ({types}) GROUP BY e.order_seq),
        units AS (SELECT l.order_id, sum(l.quantity - l.cancelled_quantity) AS qty
                  FROM order_lines l SEMI JOIN rc_scope s ON s.id = l.order_id
                  GROUP BY l.order_id)
        SELECT s.id AS order_id, s.external_id, s.total_cents,
          coalesce(ev.flags & 1 <> 0, false) AS paid, ev.paid_cents,
          coalesce(ev.flags & 2 <> 0, false) AS booked,
          coalesce(ev.flags & 4 <> 0, false) AS wms_out,
          coalesce(ev.flags & 8 <> 0, false) AS shipped,
          coalesce(ev.flags & 16 <> 0, false) AS returned,
          coalesce(ev.flags & 32 <> 0, false) OR s.status = 'cancelled' AS cancelled,
          u.qty AS units
        FROM rc_scope s LEFT JOIN ev ON ev.order_seq = s.seq
        LEFT JOIN units u ON u.order_id = s.id""")
    cur.execute("""
        CREATE OR REPLACE TEMP TABLE rc_receivables AS
        SELECT e.order_id, json_extract_string(e.data, '$.bill_no') AS bill_no,
          arg_max(e.amount_cents, e.seq) FILTER (WHERE e.amount_cents IS NOT NULL)
            AS amount_cents,
          bool_or(e.type = 'erp.receivable_closed') AS closed
        FROM events e SEMI JOIN rc_scope s ON s.seq = e.order_seq
        WHERE e.type IN ('erp.receivable_opened', 'erp.receivable_closed')
        GROUP BY ALL HAVING bill_no IS NOT NULL""")


def _load_file(cur: duckdb.DuckDBPyConnection, rows: FileRows) -> None:
    """The file's rows as rc_file_<side>, each with the order it names (or NULL)."""
    names = _FILE_COLUMNS[rows.side]
    arrays = [pa.array([r.get(n) if n != "channel" else (r.get(n) or "") for r in rows.rows],
                       _SQL_TYPES.get(n, pa.string())) for n in names]
    batch = pa.table(arrays, names=list(names))  # noqa: F841 (read by duckdb by name)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE rc_file_{rows.side} AS
        SELECT b.*, m.order_id, coalesce(m.matches, 0) AS matches,
               m.order_id IN (SELECT id FROM rc_scope) AS in_scope
        FROM batch b LEFT JOIN (
            SELECT b2.row, any_value(o.id) AS order_id, count(DISTINCT o.id) AS matches
            FROM batch b2 JOIN orders o ON o.id = b2.order_ref
              OR (o.external_id = b2.order_ref AND (b2.channel = '' OR b2.channel = o.channel))
            GROUP BY b2.row) m ON m.row = b.row""")


def _file_findings(cur: duckdb.DuckDBPyConnection, rows: FileRows,
                   result: Result) -> None:
    side = rows.side
    for row, ref in cur.execute(f"SELECT row, order_ref FROM rc_file_{side} WHERE matches > 1 "
                                "ORDER BY row").fetchall():
        result.findings.append(Finding(
            rows.name, int(row), "order_ref", "ambiguous_order",
            f"order number {ref} belongs to orders of several channels: add a channel column",
            f"订单号 {ref} 对应多个渠道的订单：请增加渠道列"))
    outside = cur.execute(f"SELECT count(*) FROM rc_file_{side} WHERE matches = 1 "
                          "AND NOT in_scope").fetchone()
    unknown = cur.execute(f"SELECT order_ref, min(row) FROM rc_file_{side} WHERE matches = 0 "
                          "GROUP BY order_ref ORDER BY min(row)").fetchall()
    for ref, _row in unknown:
        result.discrepancies.append(Discrepancy("unknown_to_hub", None, str(ref),
                                                source=rows.name))
    result.files.append({"side": side, "file": rows.name, "rows": rows.read,
                         "used": len(rows.rows), "problems": len(rows.findings),
                         "outside_period": int(outside[0]) if outside else 0,
                         "unknown_orders": len(unknown)})


def _sides(cur: duckdb.DuckDBPyConnection, files: dict[str, FileRows]) -> None:
    """rc_erp (order_id, bill_no, amount_cents, closed) and rc_side: per order, what the
    ERP, WMS and storefront files add (only the orders the files name; empty without)."""
    if "erp" in files:
        cur.execute("""CREATE OR REPLACE TEMP TABLE rc_erp AS
            SELECT order_id, bill_no, any_value(amount) AS amount_cents, bool_and(closed)
              AS closed FROM rc_file_erp WHERE in_scope AND matches = 1 GROUP BY ALL""")
    else:
        cur.execute("CREATE OR REPLACE TEMP TABLE rc_erp AS SELECT * FROM rc_receivables")
    parts = ["SELECT NULL::VARCHAR AS order_id, NULL::BOOLEAN AS erp, NULL::BOOLEAN AS wms, "
             "NULL::BIGINT AS store_cents WHERE false"]
    if "erp" in files:
        parts.append("SELECT DISTINCT order_id, true, NULL, NULL FROM rc_erp")
    if "wms" in files:
        parts.append("SELECT DISTINCT order_id, NULL, true, NULL FROM rc_file_wms "
                     "WHERE in_scope AND matches = 1")
    if "storefront" in files:
        parts.append("SELECT order_id, NULL, NULL, sum(amount) FROM rc_file_storefront "
                     "WHERE in_scope AND matches = 1 GROUP BY order_id")
    cur.execute("CREATE OR REPLACE TEMP TABLE rc_side AS SELECT order_id, bool_or(erp) AS erp, "
                "bool_or(wms) AS wms, max(store_cents) AS store_cents FROM ("
                + " UNION ALL ".join(parts) + ") GROUP BY order_id")
    # The side's view, per order: the events unless a file speaks for that side.
    erp = "(f.booked OR coalesce(x.erp, false))"  # the export lists receivables only
    wms = "coalesce(x.wms, false)" if "wms" in files else "f.wms_out"
    store = "x.store_cents" if "storefront" in files else "f.paid_cents"
    cur.execute(f"""CREATE OR REPLACE TEMP TABLE rc_view AS
        SELECT f.*, {erp} AS erp_has, {wms} AS wms_has, {store} AS store_cents,
          b.order_id IS NOT NULL AS has_bill, b.open_n, b.open_cents, b.bills
        FROM rc_facts f LEFT JOIN rc_side x ON x.order_id = f.order_id
        LEFT JOIN (SELECT order_id, count(*) FILTER (WHERE NOT closed) AS open_n,
                     sum(amount_cents) FILTER (WHERE NOT closed) AS open_cents,
                     string_agg(bill_no, ', ' ORDER BY bill_no) FILTER (WHERE NOT closed)
                       AS bills
                   FROM rc_erp GROUP BY order_id) b ON b.order_id = f.order_id""")


_CLASSES = """
SELECT 'missing_in_erp', order_id, external_id, '', total_cents::VARCHAR, '', 'erp'
  FROM rc_view WHERE paid AND NOT cancelled AND NOT erp_has
UNION ALL
SELECT 'missing_in_wms', order_id, external_id, '', units::VARCHAR, '0', 'wms'
  FROM rc_view WHERE shipped AND NOT wms_has
UNION ALL
SELECT 'amount_mismatch', f.order_id, f.external_id, e.bill_no, f.total_cents::VARCHAR,
       e.amount_cents::VARCHAR, 'erp'
  FROM rc_erp e JOIN rc_facts f ON e.order_id = f.order_id
  WHERE e.amount_cents IS NOT NULL AND abs(e.amount_cents - f.total_cents) > $tolerance
UNION ALL
SELECT 'amount_mismatch', order_id, external_id, '', total_cents::VARCHAR,
       store_cents::VARCHAR, 'storefront'
  FROM rc_view WHERE abs(store_cents - total_cents) > $tolerance
UNION ALL
SELECT 'shipped_without_receivable', order_id, external_id, '', total_cents::VARCHAR, '',
       'erp'
  FROM rc_view WHERE (shipped OR wms_has) AND erp_has AND NOT has_bill
UNION ALL
SELECT 'receivable_without_shipment', order_id, external_id, bills, '', open_cents::VARCHAR,
       'erp'
  FROM rc_view WHERE open_n > 0 AND NOT shipped AND NOT wms_has
UNION ALL
SELECT 'returned_but_receivable_open', order_id, external_id, bills, '0',
       open_cents::VARCHAR, 'erp'
  FROM rc_view WHERE returned AND open_n > 0
UNION ALL
SELECT 'duplicate_receivable', order_id, external_id, bills, '1', open_n::VARCHAR, 'erp'
  FROM rc_view WHERE open_n > 1
"""
_QUANTITIES = """
WITH hub AS (SELECT order_id, sku, sum(quantity - cancelled_quantity) AS qty
             FROM order_lines SEMI JOIN (SELECT order_id FROM rc_side WHERE wms) w
               USING (order_id) GROUP BY ALL),
     wms AS (SELECT order_id, sku, sum(quantity) AS qty FROM rc_file_wms
             WHERE in_scope AND matches = 1 GROUP BY ALL)
SELECT coalesce(h.order_id, w.order_id) AS order_id, coalesce(h.sku, w.sku) AS sku,
       coalesce(h.qty, 0), coalesce(w.qty, 0)
FROM hub h FULL JOIN wms w ON w.order_id = h.order_id AND w.sku = h.sku
WHERE coalesce(h.qty, 0) <> coalesce(w.qty, 0)
"""
_MISSING_IN_STOREFRONT = """
SELECT order_id, external_id, total_cents FROM rc_view
WHERE paid AND NOT cancelled AND store_cents IS NULL
"""


def reconcile(cursor: duckdb.DuckDBPyConnection, since: date, until: date,
              files: dict[str, FileRows] | None = None) -> Result:
    """Compare the sides for the orders placed in [since, until]; FILES (side -> rows read
    by reconcile_files.read_file) replace what the integrations reported for that side."""
    files = files or {}
    cur = cursor
    _scope(cur, since, until)
    orders = cur.execute("SELECT count(*) FROM rc_scope").fetchone()
    result = Result(since, until, int(orders[0]) if orders else 0)
    result.sources = {side: files[side].name if side in files else "events"
                      for side in ("storefront", "erp", "wms")}
    for rows in files.values():
        result.findings.extend(rows.findings)
        _load_file(cur, rows)
        _file_findings(cur, rows, result)
    _sides(cur, files)
    money = {"amount_mismatch", "missing_in_erp", "shipped_without_receivable",
             "receivable_without_shipment", "returned_but_receivable_open"}
    for kind, order_id, ref, sku, expected, actual, side in cur.execute(
            _CLASSES, {"tolerance": AMOUNT_TOLERANCE_CENTS}).fetchall():
        result.discrepancies.append(Discrepancy(
            kind, order_id, ref, sku or "", _shown(kind, expected, money),
            _shown(kind, actual, money), result.sources[side]))
    if "wms" in files:
        refs = _refs(cur)
        for order_id, sku, expected, actual in cur.execute(_QUANTITIES).fetchall():
            result.discrepancies.append(Discrepancy(
                "quantity_mismatch", order_id, refs.get(order_id, ""), sku, str(expected),
                str(actual), files["wms"].name))
    if "storefront" in files:
        for order_id, ref, total in cur.execute(_MISSING_IN_STOREFRONT).fetchall():
            result.discrepancies.append(Discrepancy(
                "missing_in_storefront", order_id, ref, "", _cents(total), "",
                files["storefront"].name))
    order = list(KINDS)
    result.discrepancies.sort(key=lambda d: (order.index(d.kind), d.order_ref, d.sku))
    for table in ("rc_scope", "rc_facts", "rc_receivables", "rc_erp", "rc_side", "rc_view",
                  *(f"rc_file_{s}" for s in files)):
        cur.execute(f"DROP TABLE IF EXISTS {table}")
    return result


def _refs(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(cur.execute("SELECT f.order_id, f.external_id FROM rc_facts f JOIN rc_side x "
                            "ON x.order_id = f.order_id WHERE x.wms").fetchall())


def _cents(value: Any) -> str:
    return "" if value is None or value == "" else cents_text(int(value))


def _shown(kind: str, value: Any, money: set[str]) -> str:
    if value is None:
        return ""
    if kind in money and str(value).lstrip("-").isdigit():
        return _cents(value)
    return str(value)
