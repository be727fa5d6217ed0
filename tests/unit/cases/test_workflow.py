"""The case workflow: which moves are allowed, and what an illegal one says."""

import pytest

from txguard.cases.workflow import TRANSITIONS, VERDICTS, allowed_next, check_transition
from txguard.domain.enums import CaseStatus as S
from txguard.domain.errors import ConflictError

ALLOWED = [
    (S.NEW, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.CONFIRMED_FRAUD),
    (S.UNDER_REVIEW, S.FALSE_POSITIVE),
    (S.UNDER_REVIEW, S.NEW),
    (S.CONFIRMED_FRAUD, S.RESOLVED),
    (S.FALSE_POSITIVE, S.RESOLVED),
]
ILLEGAL = [(a, b) for a in S for b in S if (a, b) not in ALLOWED]


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_every_allowed_move_passes(current: S, new: S) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(("current", "new"), ILLEGAL)
def test_every_other_move_is_a_conflict_naming_both_states(current: S, new: S) -> None:
    with pytest.raises(ConflictError, match=f"from {current} to {new}"):
        check_transition(current, new)


def test_the_table_holds_exactly_the_allowed_moves() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == set(ALLOWED)
    assert set(TRANSITIONS) == set(S)


def test_a_conflict_lists_where_the_case_may_go_instead() -> None:
    with pytest.raises(
        ConflictError, match="allowed from UNDER_REVIEW: NEW, CONFIRMED_FRAUD, FALSE_POSITIVE$"
    ):
        check_transition(S.UNDER_REVIEW, S.RESOLVED)
    with pytest.raises(ConflictError, match="allowed from NEW: UNDER_REVIEW$"):
        check_transition(S.NEW, S.CONFIRMED_FRAUD)


def test_resolved_is_final() -> None:
    assert allowed_next(S.RESOLVED) == []
    with pytest.raises(ConflictError, match="none, RESOLVED is final"):
        check_transition(S.RESOLVED, S.NEW)


def test_only_the_two_verdicts_become_labels() -> None:
    assert dict(VERDICTS) == {S.CONFIRMED_FRAUD: True, S.FALSE_POSITIVE: False}
