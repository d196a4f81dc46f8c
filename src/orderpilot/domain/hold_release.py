"""Why a person released a hold: a code from a short list, plus free text (required for
"other"). Kept on the hold and on its ``hold.released`` event."""

from __future__ import annotations

from orderpilot.domain.errors import InvalidInput

# (code, zh, en), in the order the console offers them.
RELEASE_REASONS: tuple[tuple[str, str, str], ...] = (
    ("verified_with_buyer", "已与买家核实", "Verified with the buyer"),
    ("address_fixed", "地址已修正", "Address fixed"),
    ("payment_confirmed", "款项已确认", "Payment confirmed"),
    ("stock_arrived", "库存已到", "Stock arrived"),
    ("qualification_passed", "资质已核验通过", "Qualification passed"),
    ("false_alarm", "误报", "False alarm"),
    ("other", "其他（请填写说明）", "Other (explain in the note)"),
)
RELEASE_REASON_CODES = tuple(code for code, _, _ in RELEASE_REASONS)
MAX_NOTE = 1000


def check_release_reason(reason: str, note: str) -> None:
    """A person's release: a listed reason; "other" needs a note saying what it was."""
    check_listed_reason(reason, note, RELEASE_REASON_CODES,
                        missing=("reason: say why the hold is released",
                                 "reason：请选择释放冻结的原因"))


def check_listed_reason(reason: str, note: str, codes: tuple[str, ...], *,
                        missing: tuple[str, str]) -> None:
    """A person's reason from a list (CODES); "other" needs a note saying what it was; the
    note is at most MAX_NOTE long. MISSING: what to say (en, zh) when no reason is given."""
    if not reason:
        raise InvalidInput(missing[0], field="reason", zh=missing[1])
    if reason not in codes:
        raise InvalidInput(f"reason: {reason!r} is not one of {', '.join(codes)}",
                           field="reason",
                           zh=f"reason：{reason!r} 不在可选原因中（{', '.join(codes)}）")
    if reason == "other" and not note.strip():
        raise InvalidInput("note: the reason is \"other\": write what it was", field="note",
                           zh="note：原因为“其他”时请填写说明")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters", field="note",
                           zh=f"note：最多 {MAX_NOTE} 个字符")
