"""The ticket queue's moves live in the domain."""

from __future__ import annotations

import pytest

from orderpilot.domain.errors import Conflict
from orderpilot.domain.tickets import NEXT_STATUS, STATUSES, IllegalTicketMove, check_move


def test_every_state_leads_somewhere_and_only_to_known_states() -> None:
    assert set(NEXT_STATUS) == set(STATUSES)
    assert all(set(moves) <= set(STATUSES) for moves in NEXT_STATUS.values())


@pytest.mark.parametrize(("now", "to"), [("open", "in_progress"), ("open", "resolved"),
                                         ("resolved", "closed"), ("closed", "open")])
def test_allowed_moves_pass(now: str, to: str) -> None:
    check_move(now, to)


@pytest.mark.parametrize(("now", "to"), [("open", "closed"), ("open", "open"),
                                         ("closed", "resolved"), ("in_progress", "lost")])
def test_a_refused_move_names_both_states(now: str, to: str) -> None:
    with pytest.raises(IllegalTicketMove) as refused:
        check_move(now, to)
    assert isinstance(refused.value, Conflict) and refused.value.field == "status"
    assert (refused.value.now, refused.value.to) == (now, to)
