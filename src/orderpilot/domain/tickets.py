"""The ticket queue's states and the moves between them.

    open ──► in_progress ──► resolved ──► closed
      │                         ▲   │        │
      └─────────────────────────┘   └► in_progress
      ▲                                      │
      └──────────── (opened again) ◄─────────┘
"""

from __future__ import annotations

from typing import Final

from orderpilot.domain.errors import IllegalTransition

STATUSES: Final = ("open", "in_progress", "resolved", "closed")
# The way a ticket moves; a closed ticket can be opened again.
NAMES_ZH: Final = {"open": "待处理", "in_progress": "处理中", "resolved": "已解决",
                   "closed": "已关闭"}
NEXT_STATUS: Final[dict[str, tuple[str, ...]]] = {
    "open": ("in_progress", "resolved"), "in_progress": ("resolved",),
    "resolved": ("closed", "in_progress"), "closed": ("open",)}


class IllegalTicketMove(IllegalTransition):
    """A ticket asked to move where its state does not lead; names both states."""

    def __init__(self, now: str, to: str) -> None:
        super().__init__(f"a ticket that is {now} cannot move to {to}", field="status",
                         zh=f"工单当前为「{NAMES_ZH.get(now, now)}」，"
                            f"不能改为「{NAMES_ZH.get(to, to)}」")
        self.now = now
        self.to = to


def check_move(now: str, to: str) -> None:
    """Raise IllegalTicketMove unless a ticket that is `now` may move to `to`."""
    if to not in NEXT_STATUS.get(now, ()):
        raise IllegalTicketMove(now, to)
