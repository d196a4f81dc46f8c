"""Roles and what each may do. One table, read by the API and the console alike."""

from __future__ import annotations

ROLES = ("admin", "ops", "finance", "warehouse", "viewer")

ROLE_NAMES = {
    "admin": ("管理员", "Administrator"),
    "ops": ("运营", "Operations"),
    "finance": ("财务", "Finance"),
    "warehouse": ("仓库", "Warehouse"),
    "viewer": ("只读", "Viewer"),
}

PERMISSIONS: dict[str, frozenset[str]] = {
    "orders.read": frozenset(ROLES),
    "orders.create": frozenset({"admin", "ops"}),
    "orders.report": frozenset({"admin", "ops", "warehouse", "finance"}),
    "holds.place": frozenset({"admin", "ops", "warehouse"}),
    "holds.release": frozenset({"admin", "ops"}),
    # Cancelling an order (at its platform, or at once for the company's own): ops and admins.
    "orders.cancel": frozenset({"admin", "ops"}),
    "orders.export": frozenset({"admin", "ops", "finance", "warehouse"}),
    "dispatch.manage": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
    "metrics.read": frozenset(ROLES),
    "rules.manage": frozenset({"admin", "ops"}),
    "inventory.read": frozenset(ROLES),
    "inventory.manage": frozenset({"admin", "ops", "warehouse"}),
    "promotions.manage": frozenset({"admin", "ops"}),
    # Channel accounts hold the shops' API secrets: only admins set or delete them. Ops see
    # their health, pull, test the connection and replay quarantined orders.
    "channels.manage": frozenset({"admin"}),
    "channels.operate": frozenset({"admin", "ops"}),
    # The ERP field mapping is finance's: which Kingdee field gets which order value.
    "erp.manage": frozenset({"admin", "finance"}),
    # A buyer's phone, name, address and e-mail unmasked (domain/masking.py masks them for
    # everyone else, on every surface). Ops call buyers and fix addresses; admins support ops.
    # Warehouse staff do not get it: labels are printed from what the WMS receives system to
    # system, and an address problem is a hold that ops resolve. Finance reconciles by order
    # number and amount; viewers watch the flow.
    "pii.read": frozenset({"admin", "ops"}),
    # Finding an order by its buyer's phone tail (手机尾号) or an address fragment tells who
    # bought what even when the answer is masked: only the roles that read personal data.
    "orders.search_buyer": frozenset({"admin", "ops"}),
    # Tags and notes on orders (one order or a bulk action), for the people working them.
    "orders.tag": frozenset({"admin", "ops"}),
    "orders.note": frozenset({"admin", "ops", "warehouse", "finance"}),
    # The walkthrough audit (S12a): ops and finance run it (it asks the ERP, the channels and
    # the carrier live); everyone may read past runs, masked without pii.read.
    "audit.run": frozenset({"admin", "ops", "finance"}),
    "audit.read": frozenset(ROLES),
    # Three-way reconciliation (issue 12): everyone reads the runs; finance and ops run them;
    # resolving a discrepancy (which may re-push an order to the ERP) is finance's, and only
    # admins choose which classes are fixed automatically.
    "reconcile.read": frozenset(ROLES),
    "reconcile.run": frozenset({"admin", "ops", "finance"}),
    "reconcile.fix": frozenset({"admin", "finance"}),
    "reconcile.configure": frozenset({"admin"}),
    # Expectations (docs/expectations.md): everyone sees the breaches; ops declare them.
    "expectations.read": frozenset(ROLES),
    "expectations.edit": frozenset({"admin", "ops"}),
    # The lifecycle board and the other proof pages (issue 12): numbers over the whole
    # history, no buyer data; every role may read them, viewers included.
    "diagnosis.read": frozenset(ROLES),
    # Returns (domain/returns.py): everyone reads them; ops take and decide them, the
    # warehouse books parcels in and inspects them, finance refunds. The reason keyword table
    # is ops' to edit.
    "returns.read": frozenset(ROLES),
    "returns.create": frozenset({"admin", "ops"}),
    "returns.decide": frozenset({"admin", "ops"}),
    "returns.receive": frozenset({"admin", "ops", "warehouse"}),
    "returns.refund": frozenset({"admin", "finance"}),
    "returns.keywords": frozenset({"admin", "ops"}),
    # Return centres and the outlet -> centre policy decide where parcels go back: ops keep
    # them (issue 13, S7); everyone who reads orders may read them.
    "returns.policy": frozenset({"admin", "ops"}),
    # Outcome KPIs (成效, docs/outcomes.md): figures over many orders and order lists without
    # buyer data; every role may read them, viewers included.
    "kpis.read": frozenset(ROLES),
    # The audit trail of people's actions (docs/audit-trail.md): admins answer for the users,
    # ops lead the exception work it records (who released, approved, reassigned what), and
    # finance checks refunds and reconciliation fixes against it. Warehouse staff and viewers
    # do not read their colleagues' trail. Personal data in it is masked without pii.read.
    "audit_log.read": frozenset({"admin", "ops", "finance"}),
    # The exception workbench (docs/exceptions.md): everyone who reads orders reads the queue;
    # ops and admins assign, comment, resolve and run bulk actions (release, retry, cancel).
    "exceptions.act": frozenset({"admin", "ops"}),
    # Outbound webhooks (docs/webhooks.md): a subscription sends order data to a URL of the
    # company's choosing and its secret signs them, so only admins create, disable or replay;
    # ops read the delivery log to see why a receiver is behind (bodies masked without
    # pii.read). Secrets are never shown to anyone after creation.
    "webhooks.manage": frozenset({"admin"}),
    "webhooks.read": frozenset({"admin", "ops"}),
}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, frozenset())
