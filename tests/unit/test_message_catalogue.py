"""The message catalogue: notes the hub writes read in each language, old English notes too;
field paths named for people (issue 11)."""

from __future__ import annotations

from orderpilot.domain.messages import (
    bilingual_note,
    coded_note,
    field_path,
    named,
    note_text,
)


def test_a_coded_note_reads_in_each_language() -> None:
    note = coded_note("hold.cannot_allocate", items="TEETHER-01 x1")
    assert "cannot allocate:" not in note  # stored as a key and parameters, not as English
    assert note_text(note, "zh_CN") == "库存不足，无法分配：TEETHER-01 x1"
    assert note_text(note, "en") == "cannot allocate: TEETHER-01 x1"


def test_notes_written_before_codes_read_the_same() -> None:
    assert note_text("cannot allocate: DIAPER-L x2", "zh_CN") == "库存不足，无法分配：DIAPER-L x2"
    assert note_text("installed from template high-value-review", "zh_CN") \
        == "由模板 high-value-review 安装"


def test_what_people_typed_is_shown_as_typed() -> None:
    for typed in ("门牌号缺失,已联系买家", "msg:not json", 'msg:{"key": "no.such"}', ""):
        assert note_text(typed, "zh_CN") == typed


def test_a_bilingual_note_picks_the_reader_s_language() -> None:
    note = bilingual_note("total does not match", "订单总额不符")
    assert (note_text(note, "zh_CN"), note_text(note, "en")) == ("订单总额不符",
                                                                "total does not match")


def test_field_paths_are_named_in_chinese_and_kept_in_english() -> None:
    assert field_path("actions[2].params.template", "zh_CN") == "动作 3 › 参数 › 模板"
    assert field_path("trigger.event", "zh_CN") == "触发条件 › 事件"
    assert field_path("trigger.event", "en") == "trigger.event"
    assert field_path("steps.check.qualified", "zh_CN") == "steps › check › qualified"


def test_codes_without_a_name_stay_as_they_are() -> None:
    assert named("event", "ticket.opened", "zh_CN") == "工单已创建"
    assert named("event", "ticket.opened", "en") == "Ticket opened"
    assert named("event", "no.such", "zh_CN") == "no.such"
