"""The scoring path's own statements: rows read back through the ORM exactly as written."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from txguard.domain.enums import CaseStatus, Decision, LabelSource
from txguard.store.decisions import DecisionStatements
from txguard.store.orm import LabelRow, TransactionRow

WHEN = datetime(2018, 5, 2, 10, 0, 0, 123456, tzinfo=UTC)


def row(tid: str, decision: Decision = Decision.APPROVE, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "transaction_id": tid,
        "occurred_at": WHEN,
        "amount": 12.5,
        "currency": "EUR",
        "card_token": "ct_abc",
        "terminal_id": "T-1",
        "merchant_category": None,
        "country": None,
        "channel": None,
        "features": {"V1": 0.5},
        "source": "api",
        "decision": decision,
        "status": None if decision is Decision.APPROVE else CaseStatus.NEW,
        "fraud_probability": 0.25,
        "anomaly_score": 0.4,
        "risk_score": 25,
        "reasons": ["High Value Transaction"],
        "explanation": {"risk_factors": ["amount is 12.50"], "confidence": "high"},
        "model_version": "m-1",
        "processing_time_ms": 0.2,
        "degraded": False,
        "scored_at": WHEN + timedelta(seconds=1),
    }
    values.update(fields)
    return values


def test_inserted_rows_read_back_through_the_orm_unchanged(engine: Engine) -> None:
    statements = DecisionStatements(engine)

    assert statements.insert([row("a"), row("b", Decision.REVIEW, degraded=True)]) == set()

    with Session(engine) as session:
        stored = {r.transaction_id: r for r in session.scalars(select(TransactionRow))}
    assert stored["a"].occurred_at == WHEN and stored["a"].scored_at == WHEN + timedelta(seconds=1)
    assert stored["b"].decision is Decision.REVIEW and stored["b"].status is CaseStatus.NEW
    assert stored["a"].features == {"V1": 0.5} and stored["a"].reasons == ["High Value Transaction"]
    assert stored["b"].degraded is True and stored["a"].created_at.tzinfo is not None


def test_an_id_already_stored_is_reported_and_left_as_it_was(engine: Engine) -> None:
    statements = DecisionStatements(engine)
    statements.insert([row("first", Decision.BLOCK, risk_score=90)])

    existed = statements.insert([row("first", Decision.APPROVE, risk_score=1), row("second")])

    assert existed == {"first"}
    documents = statements.stored(["first", "second", "nope"])
    assert set(documents) == {"first", "second"}
    assert documents["first"]["decision"] == "block" and documents["first"]["risk_score"] == 90
    assert documents["first"]["is_fraud"] is True
    assert documents["first"]["explanation"] == {
        "risk_factors": ["amount is 12.50"],
        "confidence": "high",
    }


def test_labels_waiting_for_their_transaction_say_fraud_if_any_source_does(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all([
            LabelRow(transaction_id="early", is_fraud=False, source=LabelSource.DISPUTE, known_at=WHEN),
            LabelRow(transaction_id="early", is_fraud=True, source=LabelSource.CHARGEBACK, known_at=WHEN),
            LabelRow(transaction_id="clean", is_fraud=False, source=LabelSource.CHARGEBACK, known_at=WHEN),
        ])  # fmt: skip

    labels = DecisionStatements(engine).pending_labels(["early", "clean", "none"])

    assert labels == {"early": True, "clean": False}


def test_one_lookup_gives_stored_decisions_and_the_labels_waiting_for_the_others(
    engine: Engine,
) -> None:
    statements = DecisionStatements(engine)
    statements.insert([row("scored", Decision.REVIEW, risk_score=60)])
    with Session(engine) as session, session.begin():
        session.add_all([
            LabelRow(transaction_id="scored", is_fraud=True, source=LabelSource.CHARGEBACK, known_at=WHEN),
            LabelRow(transaction_id="early", is_fraud=True, source=LabelSource.DISPUTE, known_at=WHEN),
        ])  # fmt: skip

    stored, pending = statements.lookup(["scored", "early", "unknown", "early"])

    assert set(stored) == {"scored"} and stored["scored"]["decision"] == "review"
    assert pending == {"early": True}
    assert statements.lookup([]) == ({}, {})
