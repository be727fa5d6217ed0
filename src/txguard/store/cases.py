"""The alert queue, case moves and fraud labels in the database.

The queue pages by keyset (the sort key of the last row seen), not by offset, so a page
costs the same deep in the queue and alerts arriving meanwhile neither repeat nor vanish.
Labels are upserted per (transaction, source) in one statement, which is safe against
concurrent writers and tells which rows really changed. The workflow's rules are passed
in by the case service: the store sits below it and only guarantees they are checked
under the row lock.
"""

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from txguard.domain.cases import (
    MAX_RISK_SCORE,
    AlertFilters,
    AlertPage,
    AlertSummary,
    CaseEventInfo,
    CaseInputError,
    FeedbackItem,
    FeedbackResult,
    LabelEvent,
    LabelInfo,
    StatusChange,
    TransactionDetail,
)
from txguard.domain.enums import CaseStatus, LabelSource
from txguard.domain.errors import NotFoundError
from txguard.store import audit
from txguard.store.locking import take_sqlite_write_lock
from txguard.store.orm import CaseEventRow, LabelRow, TransactionRow

T = TypeVar("T")
TransitionCheck = Callable[[CaseStatus, CaseStatus], None]
LabelKey = tuple[str, LabelSource]
_QueueRow = Row[*tuple[Any, ...]]

_MAX_ID = 2**63 - 1
# Rows per statement: a full feedback batch in one, well within the bind-parameter limits
# of SQLite (32,766) and PostgreSQL (65,535).
_CHUNK = 1000
_T = TransactionRow
_SUMMARY_COLUMNS = (
    _T.id,
    _T.transaction_id,
    _T.occurred_at,
    _T.amount,
    _T.card_token,
    _T.terminal_id,
    _T.decision,
    _T.status,
    _T.risk_score,
    _T.fraud_probability,
    _T.anomaly_score,
    _T.model_version,
    _T.reasons,
)
# Unscored alerts (no risk score) go last on every backend, whatever its NULL order.
_QUEUE_ORDER = (_T.risk_score.desc().nulls_last(), _T.occurred_at.desc(), _T.id.desc())


@dataclass(frozen=True)
class _QueueKey:
    """Where the previous page ended, in the queue's sort order."""

    risk_score: int | None
    occurred_at: datetime
    id: int


def list_alerts(engine: Engine, filters: AlertFilters, limit: int, after: str | None) -> AlertPage:
    """One page of flagged transactions, riskiest and newest first."""
    if limit < 1:
        raise CaseInputError(f"limit: must be at least 1, not {limit}", field="limit")
    conditions = _conditions(filters, engine.dialect.name)
    statement = select(*_SUMMARY_COLUMNS).where(*conditions).order_by(*_QUEUE_ORDER)
    if after is not None:
        statement = statement.where(_after(_decode_cursor(after)))
    with engine.connect() as connection:
        total = _count(connection, conditions)
        rows = connection.execute(statement.limit(limit + 1)).all()
    more = len(rows) > limit
    page = rows[:limit]
    return AlertPage(
        items=[_summary(row) for row in page],
        next_cursor=_encode_cursor(_key(page[-1])) if more else None,
        total=total,
    )


def count_alerts(engine: Engine, filters: AlertFilters) -> int:
    """How many flagged transactions match ``filters``."""
    with engine.connect() as connection:
        return _count(connection, _conditions(filters, engine.dialect.name))


def get_transaction(engine: Engine, transaction_id: str) -> TransactionDetail:
    """Everything stored about one transaction, with its labels and case history."""
    with Session(engine) as session:
        row = _find(session, transaction_id)
        if row is None:
            raise NotFoundError(f'transaction "{transaction_id}" does not exist')
        return _detail(row, _labels(session, transaction_id), _history(session, transaction_id))


def change_status(
    engine: Engine,
    transaction_id: str,
    new_status: CaseStatus,
    note: str | None,
    actor: str | None,
    now: datetime,
    *,
    check: TransitionCheck,
    verdict: bool | None,
) -> StatusChange:
    """Move a case, record the move and, for a verdict, the analyst's label, all or nothing.

    The row is locked first so two analysts moving the same case are serialised and the
    second one is checked against the status the first one left. The audit event is part of
    the same transaction.
    """
    with Session(engine) as session, session.begin():
        row = _locked_alert(session, transaction_id)
        previous = _case_status(row)
        check(previous, new_status)
        row.status, row.updated_at = new_status, now
        session.add(
            CaseEventRow(
                transaction_id=transaction_id,
                from_status=previous,
                to_status=new_status,
                note=note,
                actor=actor,
                occurred_at=now,
            )
        )
        label = None
        if verdict is not None:
            label = _record_verdict(session, row, verdict, note=note, actor=actor, now=now)
        _audit_move(session, transaction_id, previous, new_status, note, actor, verdict)
    return StatusChange(transaction_id, previous, new_status, label)


def record_labels(engine: Engine, items: Sequence[FeedbackItem]) -> list[FeedbackResult]:
    """Store reported labels, one result per item in order; known transactions are matched.

    When a batch holds the same (transaction, source) twice, the later item wins.
    """
    last = {(item.transaction_id, item.source): i for i, item in enumerate(items)}
    written = [items[i] for i in sorted(last.values())]
    with engine.begin() as connection:
        found = _known_transactions(connection, {item.transaction_id for item in items})
        changed = _upsert_labels(connection, [_feedback_values(item) for item in written])
    return [
        _feedback_result(item, found, changed if last[_label_key(item)] == i else set())
        for i, item in enumerate(items)
    ]


def pending_label(engine: Engine, transaction_id: str) -> bool | None:
    """Whether labels stored for ``transaction_id`` call it fraud; None when there are none.

    A chargeback can arrive before its transaction; the caller uses this when it does.
    """
    statement = select(LabelRow.is_fraud).where(LabelRow.transaction_id == transaction_id)
    with engine.connect() as connection:
        flags = list(connection.scalars(statement))
    return any(flags) if flags else None


def _encode_cursor(key: _QueueKey) -> str:
    """An opaque cursor: clients must pass it back unchanged, never build one."""
    text = json.dumps([key.risk_score, key.occurred_at.isoformat(), key.id])
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> _QueueKey:
    """The sort key a cursor holds; anything this module did not produce is refused."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        risk, occurred_at, row_id = json.loads(raw)
        key = _QueueKey(risk, datetime.fromisoformat(occurred_at), row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        key = None
    if key is None or not _valid_key(key):
        raise CaseInputError(
            "cursor: not a cursor of this queue; use next_cursor as returned, or none for the start",
            field="cursor",
        )
    return key


def _valid_key(key: _QueueKey) -> bool:
    """Bounds too, so a forged value fails here rather than as a driver error."""
    risk_ok = key.risk_score is None or _is_int(key.risk_score, MAX_RISK_SCORE)
    aware = key.occurred_at.utcoffset() is not None
    return risk_ok and _is_int(key.id, _MAX_ID) and aware


def _is_int(value: object, maximum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def _conditions(filters: AlertFilters, dialect: str) -> list[ColumnElement[bool]]:
    """SQL conditions for ``filters``; only transactions with a case status are alerts."""
    conditions: list[ColumnElement[bool]] = [_T.status.is_not(None)]
    if filters.status:
        conditions.append(_T.status.in_(filters.status))
    if filters.min_risk_score is not None:
        conditions.append(_T.risk_score >= filters.min_risk_score)
    if filters.start is not None:
        conditions.append(_T.occurred_at >= filters.start)
    if filters.end is not None:
        conditions.append(_T.occurred_at < filters.end)
    if filters.decision is not None:
        conditions.append(_T.decision == filters.decision)
    if filters.rule is not None:
        conditions.append(_has_reason(filters.rule, dialect))
    return conditions


def _has_reason(name: str, dialect: str) -> ColumnElement[bool]:
    """Whether ``reasons`` (a JSON list of rule names) holds ``name`` exactly.

    JSON containment on PostgreSQL, ``json_each`` on SQLite: both compare decoded strings,
    so names with quotes, backslashes or accents match as written.
    """
    if dialect == "postgresql":
        return type_coerce(_T.reasons, postgresql.JSONB).contains([name])
    values = func.json_each(_T.reasons).table_valued("value")
    return exists().select_from(values).where(values.c.value == name)


def _after(key: _QueueKey) -> ColumnElement[bool]:
    """Rows that sort after ``key``: lower risk, then older, then lower id; NULL risk last."""
    later = or_(
        _T.occurred_at < key.occurred_at, and_(_T.occurred_at == key.occurred_at, _T.id < key.id)
    )
    if key.risk_score is None:
        return and_(_T.risk_score.is_(None), later)
    return or_(
        _T.risk_score < key.risk_score,
        _T.risk_score.is_(None),
        and_(_T.risk_score == key.risk_score, later),
    )


def _count(connection: Connection, conditions: list[ColumnElement[bool]]) -> int:
    statement = select(func.count()).select_from(_T).where(*conditions)
    return int(connection.execute(statement).scalar_one())


def _key(row: _QueueRow) -> _QueueKey:
    return _QueueKey(row.risk_score, row.occurred_at, row.id)


def _summary(row: _QueueRow) -> AlertSummary:
    return AlertSummary(
        transaction_id=row.transaction_id,
        occurred_at=row.occurred_at,
        amount=row.amount,
        card_token=row.card_token,
        terminal_id=row.terminal_id,
        decision=row.decision,
        status=row.status,
        risk_score=row.risk_score,
        fraud_probability=row.fraud_probability,
        anomaly_score=row.anomaly_score,
        model_version=row.model_version,
        reasons=list(row.reasons or []),
    )


def _find(session: Session, transaction_id: str) -> TransactionRow | None:
    statement = select(TransactionRow).where(TransactionRow.transaction_id == transaction_id)
    return session.scalars(statement).first()


def _labels(session: Session, transaction_id: str) -> list[LabelInfo]:
    statement = (
        select(LabelRow)
        .where(LabelRow.transaction_id == transaction_id)
        .order_by(LabelRow.known_at, LabelRow.id)
    )
    return [
        LabelInfo(row.source, row.is_fraud, row.known_at, row.actor, row.note)
        for row in session.scalars(statement)
    ]


def _history(session: Session, transaction_id: str) -> list[CaseEventInfo]:
    statement = (
        select(CaseEventRow)
        .where(CaseEventRow.transaction_id == transaction_id)
        .order_by(CaseEventRow.occurred_at, CaseEventRow.id)
    )
    return [
        CaseEventInfo(row.from_status, row.to_status, row.occurred_at, row.actor, row.note)
        for row in session.scalars(statement)
    ]


def _detail(
    row: TransactionRow, labels: list[LabelInfo], history: list[CaseEventInfo]
) -> TransactionDetail:
    return TransactionDetail(
        transaction_id=row.transaction_id,
        occurred_at=row.occurred_at,
        amount=row.amount,
        currency=row.currency,
        card_token=row.card_token,
        terminal_id=row.terminal_id,
        merchant_category=row.merchant_category,
        country=row.country,
        channel=row.channel,
        features=row.features,
        source=row.source,
        decision=row.decision,
        status=row.status,
        fraud_probability=row.fraud_probability,
        anomaly_score=row.anomaly_score,
        risk_score=row.risk_score,
        reasons=list(row.reasons or []),
        explanation=row.explanation,
        model_version=row.model_version,
        processing_time_ms=row.processing_time_ms,
        degraded=row.degraded,
        scored_at=row.scored_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        labels=labels,
        case_history=history,
    )


def _locked_alert(session: Session, transaction_id: str) -> TransactionRow:
    take_sqlite_write_lock(session)
    statement = (
        select(TransactionRow)
        .where(TransactionRow.transaction_id == transaction_id)
        .with_for_update()
    )
    row = session.scalars(statement).first()
    if row is None:
        raise NotFoundError(f'transaction "{transaction_id}" does not exist')
    return row


def _audit_move(
    session: Session,
    transaction_id: str,
    previous: CaseStatus,
    new_status: CaseStatus,
    note: str | None,
    actor: str | None,
    verdict: bool | None,
) -> None:
    after: dict[str, Any] = {"status": new_status.value, "note": note}
    if verdict is not None:
        after["is_fraud"] = verdict
    audit.record(
        session,
        actor=actor,
        action="case.status_changed",
        entity_type="case",
        entity_id=transaction_id,
        before={"status": previous.value},
        after=after,
    )


def _case_status(row: TransactionRow) -> CaseStatus:
    if row.status is None:
        raise NotFoundError(
            f'transaction "{row.transaction_id}" was not flagged for review, so it has no case'
        )
    return row.status


def _record_verdict(
    session: Session,
    row: TransactionRow,
    is_fraud: bool,
    *,
    note: str | None,
    actor: str | None,
    now: datetime,
) -> LabelEvent | None:
    values = _label_values(row.transaction_id, LabelSource.ANALYST, is_fraud, now, note, actor)
    if not _upsert_labels(session.connection(), [values]):
        return None
    return LabelEvent(row.transaction_id, row.terminal_id, row.occurred_at, is_fraud)


def _known_transactions(
    connection: Connection, transaction_ids: set[str]
) -> dict[str, tuple[str | None, datetime]]:
    """Terminal and time of those of ``transaction_ids`` already stored, in few queries."""
    found: dict[str, tuple[str | None, datetime]] = {}
    for chunk in _chunks(sorted(transaction_ids)):
        statement = select(_T.transaction_id, _T.terminal_id, _T.occurred_at).where(
            _T.transaction_id.in_(chunk)
        )
        found.update((tid, (terminal, at)) for tid, terminal, at in connection.execute(statement))
    return found


def _upsert_labels(connection: Connection, rows: list[dict[str, Any]]) -> set[LabelKey]:
    """Insert labels, or change those whose verdict differs; the keys of rows that changed.

    A repeat with the same verdict matches the conflict but not its WHERE, so it is neither
    written nor returned.
    """
    changed: set[LabelKey] = set()
    for chunk in _chunks(rows):
        base = _insert_label(connection.dialect.name).values(chunk)
        statement = base.on_conflict_do_update(
            index_elements=["transaction_id", "source"],
            set_={
                "is_fraud": base.excluded.is_fraud,
                "known_at": base.excluded.known_at,
                "actor": base.excluded.actor,
                "note": base.excluded.note,
            },
            where=LabelRow.is_fraud != base.excluded.is_fraud,
        ).returning(LabelRow.transaction_id, LabelRow.source)
        changed.update((tid, LabelSource(source)) for tid, source in connection.execute(statement))
    return changed


def _insert_label(dialect: str) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(LabelRow)
    return sqlite.insert(LabelRow)


def _label_values(
    transaction_id: str,
    source: LabelSource,
    is_fraud: bool,
    known_at: datetime,
    note: str | None,
    actor: str | None,
) -> dict[str, Any]:
    return {
        "transaction_id": transaction_id,
        "source": source,
        "is_fraud": is_fraud,
        "known_at": known_at,
        "note": note,
        "actor": actor,
    }


def _feedback_values(item: FeedbackItem) -> dict[str, Any]:
    return _label_values(
        item.transaction_id, item.source, item.is_fraud, item.reported_at, item.note, item.actor
    )


def _label_key(item: FeedbackItem) -> LabelKey:
    return (item.transaction_id, item.source)


def _feedback_result(
    item: FeedbackItem,
    found: dict[str, tuple[str | None, datetime]],
    changed: set[LabelKey],
) -> FeedbackResult:
    known = found.get(item.transaction_id)
    if known is None:
        return FeedbackResult(item.transaction_id, matched=False, label=None)
    label = None
    if _label_key(item) in changed:
        terminal_id, occurred_at = known
        label = LabelEvent(item.transaction_id, terminal_id, occurred_at, item.is_fraud)
    return FeedbackResult(item.transaction_id, matched=True, label=label)


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
