"""order.hold keeps a note written in both languages (``note`` Chinese, ``note_en`` English)
as one coded note each reader sees in theirs; a note alone is kept as written."""

from __future__ import annotations

from orderpilot.domain.messages import note_text
from orderpilot.services.rules.actions import hold


def test_hold_declares_an_english_note() -> None:
    names = [p.name for p in hold.TYPE.params]
    assert names[:3] == ["reason", "note", "note_en"]


def test_a_note_in_both_languages_reads_in_each() -> None:
    stored = hold.hold_note({"note": "订单没有发货记录", "note_en": "The order has no shipment"})
    assert note_text(stored, "zh_CN") == "订单没有发货记录"
    assert note_text(stored, "en") == "The order has no shipment"


def test_a_note_alone_is_kept_as_written() -> None:
    assert hold.hold_note({"note": "客户要求改地址"}) == "客户要求改地址"
    assert hold.hold_note({"note": "客户要求改地址", "note_en": "  "}) == "客户要求改地址"
    assert hold.hold_note({}) == ""
    only_en = hold.hold_note({"note_en": "Address to check"})
    assert note_text(only_en, "zh_CN") == note_text(only_en, "en") == "Address to check"
