"""Stored records are built straight from rows (``Record(*row)``): their fields must be their
table's columns, in order, or a renamed or moved column would put values in the wrong field."""

import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.domain import exceptions as workbench
from orderpilot.domain import inventory_records as inv
from orderpilot.domain import records
from orderpilot.domain.rules import records as rule_records

WHOLE_ROWS = [
    (records.TimerRecord, t.timers),
    (records.User, t.users),
    (records.ApiToken, t.api_tokens),
    (rule_records.StoredRule, t.rules),
    (rule_records.RuleVersion, t.rule_versions),
    (rule_records.AuditEntry, t.rule_audit),
    (rule_records.Run, t.rule_runs),
    (rule_records.StepAttempt, t.rule_attempts),
    (rule_records.OutsideAttempt, t.outside_attempts),
    (rule_records.Ticket, t.tickets),
    (rule_records.CustomerTag, t.customer_tags),
    (rule_records.SmsTemplate, t.sms_templates),
    (inv.Allocation, t.allocations),
    (inv.Level, t.inventory_levels),
    (inv.SyncRun, t.inventory_sync_runs),
    (inv.PullRecord, t.inventory_pulls),
    (inv.Promotion, t.promotions),
    (inv.PromotionClaim, t.promotion_claims),
    (workbench.ExceptionRecord, t.exceptions),
    (workbench.CommentRecord, t.exception_comments),
    (workbench.HistoryRecord, t.exception_history),
]


def _names(record: type) -> list[str]:
    return list(record._fields)


@pytest.mark.parametrize(("record", "table"), WHOLE_ROWS, ids=lambda v: getattr(v, "name", ""))
def test_a_record_has_its_tables_columns_in_order(record: type, table: sa.Table) -> None:
    assert _names(record) == [c.name for c in table.columns]


def test_joined_views_start_with_their_tables_columns() -> None:
    level = [c.name for c in t.inventory_levels.columns]
    assert _names(inv.LevelView) == [*level, "kind", "name_zh", "name_en", "safety",
                                     "threshold"]
    claim = [c.name for c in t.promotion_claims.columns]
    assert _names(inv.ClaimView) == [*claim, "channel", "external_id", "order_status"]
