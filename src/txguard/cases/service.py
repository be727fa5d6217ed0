"""What the API and the console call to work the alert queue and report labels.

Thin on purpose: the workflow's rules come from :mod:`txguard.cases.workflow` and the SQL
from :mod:`txguard.store.cases`; this module joins them and supplies the clock, so the
interfaces never pick a time or a rule themselves.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from txguard.cases.workflow import VERDICTS, check_transition
from txguard.domain.cases import (
    AlertFilters,
    AlertPage,
    FeedbackItem,
    FeedbackResult,
    StatusChange,
    TransactionDetail,
)
from txguard.domain.enums import CaseStatus
from txguard.store import cases as store


def list_alerts(
    engine: Engine, filters: AlertFilters, limit: int, after: str | None = None
) -> AlertPage:
    """One page of the queue, riskiest and newest first; ``after`` is the previous next_cursor."""
    return store.list_alerts(engine, filters, limit, after)


def count_alerts(engine: Engine, filters: AlertFilters) -> int:
    """How many alerts match, for the queue's counters."""
    return store.count_alerts(engine, filters)


def get_transaction(engine: Engine, transaction_id: str) -> TransactionDetail:
    """The case file of one transaction: scores, explanation, labels and history."""
    return store.get_transaction(engine, transaction_id)


def change_status(
    engine: Engine,
    transaction_id: str,
    new_status: CaseStatus,
    note: str | None = None,
    actor: str | None = None,
) -> StatusChange:
    """Move a case now; a verdict also becomes the analyst's label, known from now."""
    return store.change_status(
        engine,
        transaction_id,
        new_status,
        note,
        actor,
        datetime.now(UTC),
        check=check_transition,
        verdict=VERDICTS.get(new_status),
    )


def record_feedback(engine: Engine, items: Sequence[FeedbackItem]) -> list[FeedbackResult]:
    """Store chargebacks, disputes and verdicts from outside, one result per item."""
    return store.record_labels(engine, items)


def pending_label(engine: Engine, transaction_id: str) -> bool | None:
    """Whether a label that arrived before its transaction calls it fraud; None if none did."""
    return store.pending_label(engine, transaction_id)
