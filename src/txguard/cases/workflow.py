"""The moves a case may make, and which of them are verdicts.

Kept free of I/O so the store can apply the check inside the transaction that holds the
row lock, where the current status cannot change under it.

>>> check_transition(CaseStatus.NEW, CaseStatus.UNDER_REVIEW)
>>> VERDICTS[CaseStatus.FALSE_POSITIVE]
False
"""

from collections.abc import Mapping
from types import MappingProxyType

from txguard.domain.enums import CaseStatus
from txguard.domain.errors import ConflictError

TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = MappingProxyType(
    {
        CaseStatus.NEW: frozenset({CaseStatus.UNDER_REVIEW}),
        # Releasing a case back to the queue lets another analyst pick it up.
        CaseStatus.UNDER_REVIEW: frozenset(
            {CaseStatus.CONFIRMED_FRAUD, CaseStatus.FALSE_POSITIVE, CaseStatus.NEW}
        ),
        CaseStatus.CONFIRMED_FRAUD: frozenset({CaseStatus.RESOLVED}),
        CaseStatus.FALSE_POSITIVE: frozenset({CaseStatus.RESOLVED}),
        CaseStatus.RESOLVED: frozenset(),
    }
)

# A verdict becomes the analyst's label of the transaction, hence a training label.
VERDICTS: Mapping[CaseStatus, bool] = MappingProxyType(
    {CaseStatus.CONFIRMED_FRAUD: True, CaseStatus.FALSE_POSITIVE: False}
)


def allowed_next(current: CaseStatus) -> list[CaseStatus]:
    """The statuses a case in ``current`` may move to, in the workflow's order."""
    return [status for status in CaseStatus if status in TRANSITIONS[current]]


def check_transition(current: CaseStatus, new: CaseStatus) -> None:
    """Refuse a move the workflow does not allow, saying where the case could go instead."""
    if new in TRANSITIONS[current]:
        return
    options = allowed_next(current)
    allowed = ", ".join(options) if options else f"none, {current} is final"
    raise ConflictError(
        f"a case cannot move from {current} to {new}; allowed from {current}: {allowed}"
    )
