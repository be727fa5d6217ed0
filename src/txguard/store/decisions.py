"""Scored transactions in and out of ``card_transaction``, in batches.

The scoring service calls these from its batching threads: one statement for many
concurrent requests. A transaction id is stored once; a second insert of the same id (a
payment network's retry that reached another process) changes nothing and is reported, so
the caller can answer with the decision that was stored first.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Insert, Table, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from txguard.store.orm import LabelRow, TransactionRow

_T: Table = TransactionRow.__table__  # type: ignore[assignment]
_DECISION_COLUMNS = (
    _T.c.transaction_id,
    _T.c.decision,
    _T.c.fraud_probability,
    _T.c.anomaly_score,
    _T.c.risk_score,
    _T.c.model_version,
    _T.c.processing_time_ms,
    _T.c.degraded,
    _T.c.explanation,
)


def _insert(engine: Engine) -> Insert:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(_T).on_conflict_do_nothing(index_elements=["transaction_id"])
    return sqlite.insert(_T).on_conflict_do_nothing(index_elements=["transaction_id"])


def insert_decisions(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert scored transactions in one statement; the ids that were already stored."""
    if not rows:
        return set()
    statement = _insert(engine).returning(_T.c.transaction_id)
    with engine.begin() as connection:
        inserted = set(connection.execute(statement, list(rows)).scalars())
    return {row["transaction_id"] for row in rows} - inserted


def stored_decisions(engine: Engine, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored decision of each id that has one, in the decision output's field names."""
    if not ids:
        return {}
    statement = select(*_DECISION_COLUMNS).where(_T.c.transaction_id.in_(set(ids)))
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings()
        return {row["transaction_id"]: decision_document(row) for row in rows}


def pending_labels(engine: Engine, ids: Sequence[str]) -> dict[str, bool]:
    """Labels reported before their transaction arrived: fraud if any source says so."""
    if not ids:
        return {}
    label = LabelRow.__table__
    statement = (
        select(label.c.transaction_id, func.max(case((label.c.is_fraud, 1), else_=0)))
        .where(label.c.transaction_id.in_(set(ids)))
        .group_by(label.c.transaction_id)
    )
    with engine.connect() as connection:
        return {tid: bool(fraud) for tid, fraud in connection.execute(statement)}


def decision_document(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored row as the decision output (DESIGN.md "Decision output")."""
    decision = row["decision"]
    value = decision.value if decision is not None else None
    return {
        "transaction_id": row["transaction_id"],
        "is_fraud": value is not None and value != "approve",
        "fraud_probability": row["fraud_probability"],
        "anomaly_score": row["anomaly_score"],
        "risk_score": row["risk_score"],
        "decision": value,
        "model_version": row["model_version"],
        "processing_time_ms": row["processing_time_ms"],
        "degraded": bool(row["degraded"]),
        "explanation": row["explanation"],
    }
