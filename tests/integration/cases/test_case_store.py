"""The alert queue, case moves and reported labels as stored, on every database backend."""

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from txguard.cases import service
from txguard.cases.workflow import VERDICTS, check_transition
from txguard.domain.cases import (
    AlertFilters,
    AlertSummary,
    FeedbackItem,
    LabelEvent,
    StatusChange,
)
from txguard.domain.enums import CaseStatus as S
from txguard.domain.enums import Decision, LabelSource
from txguard.domain.errors import ConflictError, InputError, NotFoundError
from txguard.store import cases as store
from txguard.store.orm import CaseEventRow, LabelRow, TransactionRow

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ANY = AlertFilters()


def tx(
    transaction_id: str,
    *,
    risk: int | None = 50,
    at: datetime = T0,
    status: S | None = S.NEW,
    decision: Decision | None = Decision.REVIEW,
    reasons: list[str] | None = None,
    **columns: Any,
) -> TransactionRow:
    return TransactionRow(
        transaction_id=transaction_id,
        occurred_at=at,
        amount=columns.pop("amount", 125.5),
        card_token=columns.pop("card_token", "card-1"),
        terminal_id=columns.pop("terminal_id", "term-1"),
        source="api",
        decision=decision,
        status=status,
        risk_score=risk,
        fraud_probability=0.42,
        anomaly_score=0.1,
        model_version="m-1",
        reasons=reasons,
        **columns,
    )


def add(engine: Engine, *rows: TransactionRow) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(rows)


def ids(engine: Engine, filters: AlertFilters = ANY, limit: int = 100) -> list[str]:
    return [a.transaction_id for a in store.list_alerts(engine, filters, limit, None).items]


def move(engine: Engine, transaction_id: str, new: S, **kwargs: Any) -> StatusChange:
    arguments = {"note": None, "actor": "alice", "now": NOW} | kwargs
    return store.change_status(
        engine,
        transaction_id,
        new,
        arguments["note"],
        arguments["actor"],
        arguments["now"],
        check=check_transition,
        verdict=VERDICTS.get(new),
    )


def feedback(transaction_id: str, is_fraud: bool = True, **changes: Any) -> FeedbackItem:
    values = {"reported_at": NOW, "source": LabelSource.CHARGEBACK} | changes
    return FeedbackItem(transaction_id, is_fraud, **values)


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine runs while the test does."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


# The queue


def test_only_flagged_transactions_are_alerts(engine: Engine) -> None:
    add(engine, tx("flagged"), tx("approved", status=None, decision=Decision.APPROVE))
    page = store.list_alerts(engine, ANY, 10, None)
    assert [a.transaction_id for a in page.items] == ["flagged"]
    assert (page.total, page.next_cursor) == (1, None)


def test_an_alert_summary_carries_what_triage_needs(engine: Engine) -> None:
    add(engine, tx("a", risk=88, reasons=["Big", "Velocity"]))
    (alert,) = store.list_alerts(engine, ANY, 10, None).items
    assert alert == AlertSummary(
        transaction_id="a",
        occurred_at=T0,
        amount=125.5,
        card_token="card-1",
        terminal_id="term-1",
        decision=Decision.REVIEW,
        status=S.NEW,
        risk_score=88,
        fraud_probability=0.42,
        anomaly_score=0.1,
        model_version="m-1",
        reasons=["Big", "Velocity"],
    )


def test_filters_by_status(engine: Engine) -> None:
    add(engine, tx("new"), tx("review", status=S.UNDER_REVIEW), tx("done", status=S.RESOLVED))
    assert ids(engine, AlertFilters(status=[S.UNDER_REVIEW, S.RESOLVED])) == ["done", "review"]
    assert sorted(ids(engine, AlertFilters(status=[]))) == ["done", "new", "review"]


def test_filters_by_minimum_risk_score_inclusive(engine: Engine) -> None:
    add(engine, tx("low", risk=39), tx("edge", risk=40), tx("high", risk=90))
    assert ids(engine, AlertFilters(min_risk_score=40)) == ["high", "edge"]


def test_filters_by_time_with_an_exclusive_end(engine: Engine) -> None:
    hour = timedelta(hours=1)
    add(engine, *(tx(f"h{i}", at=T0 + i * hour) for i in range(4)))
    window = AlertFilters(start=T0 + hour, end=T0 + 3 * hour)
    assert ids(engine, window) == ["h2", "h1"]
    assert ids(engine, AlertFilters(start=T0 + 3 * hour)) == ["h3"]
    assert ids(engine, AlertFilters(end=T0 + hour)) == ["h0"]


def test_filters_by_decision(engine: Engine) -> None:
    add(engine, tx("r"), tx("b", decision=Decision.BLOCK))
    assert ids(engine, AlertFilters(decision=Decision.BLOCK)) == ["b"]


def test_filters_by_a_rule_that_hit_matching_the_exact_name(engine: Engine) -> None:
    add(
        engine,
        tx("big", risk=90, reasons=["Big", "Night"]),
        tx("bigger", risk=80, reasons=["Bigger"]),
        tx("odd", risk=70, reasons=['Très "gros" \\ montant']),
        tx("none", risk=60),
    )
    assert ids(engine, AlertFilters(rule="Big")) == ["big"]
    assert ids(engine, AlertFilters(rule="Night")) == ["big"]
    assert ids(engine, AlertFilters(rule='Très "gros" \\ montant')) == ["odd"]
    assert ids(engine, AlertFilters(rule="%")) == []


def test_filters_combine(engine: Engine) -> None:
    add(
        engine,
        tx("match", risk=80, decision=Decision.BLOCK, reasons=["Big"]),
        tx("low", risk=10, decision=Decision.BLOCK, reasons=["Big"]),
        tx("review", risk=80, reasons=["Big"]),
        tx("other-rule", risk=80, decision=Decision.BLOCK, reasons=["Night"]),
    )
    filters = AlertFilters(
        status=[S.NEW], min_risk_score=50, decision=Decision.BLOCK, rule="Big", start=T0
    )
    page = store.list_alerts(engine, filters, 10, None)
    assert [a.transaction_id for a in page.items] == ["match"]
    assert page.total == store.count_alerts(engine, filters) == 1


def test_riskiest_then_newest_then_last_stored_first_and_unscored_last(engine: Engine) -> None:
    later = T0 + timedelta(minutes=5)
    add(
        engine,
        tx("unscored", risk=None),
        tx("low", risk=10, at=later),
        tx("tie-older", risk=70),
        tx("tie-first", risk=70, at=later),
        tx("tie-second", risk=70, at=later),
        tx("top", risk=99),
    )
    assert ids(engine) == ["top", "tie-second", "tie-first", "tie-older", "low", "unscored"]


def test_keyset_pages_cover_every_alert_once_across_ties(engine: Engine) -> None:
    later = T0 + timedelta(minutes=1)
    rows = [tx(f"t{i:02}", risk=[80, 50, 50, 50][i % 4], at=[T0, later][i % 2]) for i in range(10)]
    add(engine, *rows, tx("unscored-1", risk=None), tx("unscored-2", risk=None, at=later))
    expected = ids(engine)
    pages, after = [], None
    for _ in range(3):
        page = store.list_alerts(engine, ANY, 5, after)
        assert page.total == 12
        pages.append([a.transaction_id for a in page.items])
        after = page.next_cursor
    assert [len(p) for p in pages] == [5, 5, 2]
    assert after is None
    assert sum(pages, []) == expected
    assert len(set(expected)) == 12


def test_a_page_that_ends_exactly_at_the_end_has_no_next_cursor(engine: Engine) -> None:
    add(engine, tx("a"), tx("b"))
    first = store.list_alerts(engine, ANY, 2, None)
    assert (len(first.items), first.next_cursor) == (2, None)


def test_keyset_pages_respect_the_filters(engine: Engine) -> None:
    add(
        engine,
        *(
            tx(f"t{i}", risk=50, decision=[Decision.REVIEW, Decision.BLOCK][i % 2])
            for i in range(7)
        ),
    )
    filters = AlertFilters(decision=Decision.BLOCK)
    first = store.list_alerts(engine, filters, 2, None)
    second = store.list_alerts(engine, filters, 2, first.next_cursor)
    assert first.total == second.total == 3
    assert [a.transaction_id for a in first.items + second.items] == ["t5", "t3", "t1"]
    assert second.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        cursor_of({"risk": 1}),
        cursor_of([50, "yesterday", 3]),
        cursor_of([50, "2026-11-02T12:00:00", 3]),  # no time zone
        cursor_of([True, "2026-11-02T12:00:00+00:00", 3]),
        cursor_of([50.5, "2026-11-02T12:00:00+00:00", 3]),
        cursor_of([500, "2026-11-02T12:00:00+00:00", 3]),
        cursor_of([50, "2026-11-02T12:00:00+00:00", -1]),
        cursor_of([50, "2026-11-02T12:00:00+00:00", 2**70]),
        cursor_of([50, "2026-11-02T12:00:00+00:00"]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_malformed_cursor_is_refused_naming_the_field(engine: Engine, cursor: str) -> None:
    with pytest.raises(InputError, match="^cursor: ") as caught:
        store.list_alerts(engine, ANY, 10, cursor)
    assert getattr(caught.value, "field", None) == "cursor"


def test_a_cursor_survives_a_round_trip(engine: Engine) -> None:
    add(engine, tx("a", risk=None), tx("b", risk=None))
    first = store.list_alerts(engine, ANY, 1, None)
    assert first.next_cursor is not None
    assert [
        a.transaction_id for a in store.list_alerts(engine, ANY, 5, first.next_cursor).items
    ] == ["a"]


def test_a_page_needs_at_least_one_row(engine: Engine) -> None:
    with pytest.raises(InputError, match="^limit: "):
        store.list_alerts(engine, ANY, 0, None)


def test_filters_refuse_naive_times_and_scores_out_of_range() -> None:
    with pytest.raises(InputError, match="^start: needs a time zone"):
        AlertFilters(start=datetime(2026, 11, 2))
    with pytest.raises(InputError, match="^min_risk_score: "):
        AlertFilters(min_risk_score=101)


def test_count_ignores_paging_and_counts_only_matches(engine: Engine) -> None:
    add(engine, tx("a"), tx("b", status=S.RESOLVED), tx("c", status=None))
    assert store.count_alerts(engine, ANY) == 2
    assert store.count_alerts(engine, AlertFilters(status=[S.RESOLVED])) == 1


# One transaction


def test_a_transaction_reads_back_with_everything_stored(engine: Engine) -> None:
    explanation = {"rule_hits": [{"name": "Big", "weight": 30}], "confidence": "high"}
    add(
        engine,
        tx(
            "a",
            reasons=["Big"],
            explanation=explanation,
            features={"V1": -1.5},
            currency="EUR",
            country="FR",
            channel="ecom",
            merchant_category="5411",
            processing_time_ms=1.25,
            degraded=True,
            scored_at=T0 + timedelta(milliseconds=2),
        ),
    )
    detail = store.get_transaction(engine, "a")
    assert (detail.transaction_id, detail.occurred_at, detail.amount) == ("a", T0, 125.5)
    assert (detail.explanation, detail.features, detail.reasons) == (
        explanation,
        {"V1": -1.5},
        ["Big"],
    )
    assert (detail.currency, detail.country, detail.channel, detail.merchant_category) == (
        "EUR",
        "FR",
        "ecom",
        "5411",
    )
    assert (detail.status, detail.decision, detail.risk_score, detail.degraded) == (
        S.NEW,
        Decision.REVIEW,
        50,
        True,
    )
    assert (detail.processing_time_ms, detail.scored_at, detail.updated_at) == (
        1.25,
        T0 + timedelta(milliseconds=2),
        None,
    )
    assert detail.created_at.tzinfo is not None
    assert (detail.labels, detail.case_history) == ([], [])


def test_an_unknown_transaction_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match='transaction "nope" does not exist'):
        store.get_transaction(engine, "nope")


# Case moves


def test_a_case_moves_to_a_verdict_leaving_history_and_an_analyst_label(engine: Engine) -> None:
    add(engine, tx("a", terminal_id="term-9"))
    first = move(engine, "a", S.UNDER_REVIEW, actor="alice", note="calling the cardholder")
    assert (first.from_status, first.to_status, first.label) == (S.NEW, S.UNDER_REVIEW, None)
    verdict_at = NOW + timedelta(hours=1)
    verdict = move(engine, "a", S.CONFIRMED_FRAUD, actor="bob", note="card stolen", now=verdict_at)
    assert verdict.label == LabelEvent("a", "term-9", T0, True)
    move(engine, "a", S.RESOLVED, now=verdict_at + timedelta(days=1))

    detail = store.get_transaction(engine, "a")
    assert (detail.status, detail.updated_at) == (S.RESOLVED, verdict_at + timedelta(days=1))
    assert [
        (e.from_status, e.to_status, e.actor, e.note, e.occurred_at) for e in detail.case_history
    ] == [
        (S.NEW, S.UNDER_REVIEW, "alice", "calling the cardholder", NOW),
        (S.UNDER_REVIEW, S.CONFIRMED_FRAUD, "bob", "card stolen", verdict_at),
        (S.CONFIRMED_FRAUD, S.RESOLVED, "alice", None, verdict_at + timedelta(days=1)),
    ]
    assert [(lb.source, lb.is_fraud, lb.known_at, lb.actor, lb.note) for lb in detail.labels] == [
        (LabelSource.ANALYST, True, verdict_at, "bob", "card stolen")
    ]


def test_a_false_positive_is_a_legit_label(engine: Engine) -> None:
    add(engine, tx("a"))
    move(engine, "a", S.UNDER_REVIEW)
    change = move(engine, "a", S.FALSE_POSITIVE)
    assert change.label == LabelEvent("a", "term-1", T0, False)
    assert store.pending_label(engine, "a") is False


def test_a_released_case_goes_back_to_the_queue(engine: Engine) -> None:
    add(engine, tx("a"))
    move(engine, "a", S.UNDER_REVIEW)
    assert move(engine, "a", S.NEW).to_status is S.NEW
    assert ids(engine, AlertFilters(status=[S.NEW])) == ["a"]


def test_an_illegal_move_is_a_conflict_and_changes_nothing(engine: Engine) -> None:
    add(engine, tx("a"))
    with pytest.raises(ConflictError, match="from NEW to CONFIRMED_FRAUD"):
        move(engine, "a", S.CONFIRMED_FRAUD)
    detail = store.get_transaction(engine, "a")
    assert (detail.status, detail.updated_at, detail.case_history, detail.labels) == (
        S.NEW,
        None,
        [],
        [],
    )


def test_moving_an_unknown_or_unflagged_transaction_is_not_found(engine: Engine) -> None:
    add(engine, tx("approved", status=None, decision=Decision.APPROVE))
    with pytest.raises(NotFoundError, match='transaction "nope" does not exist'):
        move(engine, "nope", S.UNDER_REVIEW)
    with pytest.raises(NotFoundError, match='"approved" was not flagged'):
        move(engine, "approved", S.UNDER_REVIEW)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(CaseEventRow)) == 0


def test_a_verdict_matching_an_existing_analyst_label_reports_no_change(engine: Engine) -> None:
    add(engine, tx("a"))
    store.record_labels(engine, [feedback("a", True, source=LabelSource.ANALYST)])
    move(engine, "a", S.UNDER_REVIEW)
    assert move(engine, "a", S.CONFIRMED_FRAUD).label is None
    assert len(store.get_transaction(engine, "a").labels) == 1


def test_the_service_moves_a_case_with_the_current_time(engine: Engine) -> None:
    add(engine, tx("a"))
    before = datetime.now(UTC)
    service.change_status(engine, "a", S.UNDER_REVIEW, "mine", "alice")
    service.change_status(engine, "a", S.CONFIRMED_FRAUD, None, "alice")
    detail = service.get_transaction(engine, "a")
    assert detail.status is S.CONFIRMED_FRAUD
    assert detail.labels[0].known_at >= before
    assert service.list_alerts(engine, ANY, 10).total == service.count_alerts(engine, ANY) == 1
    with pytest.raises(ConflictError):
        service.change_status(engine, "a", S.NEW)


# Reported labels


def test_feedback_matches_known_transactions_and_keeps_the_others(engine: Engine) -> None:
    add(engine, tx("known", terminal_id="term-7", status=None, decision=Decision.APPROVE))
    results = service.record_feedback(engine, [feedback("known"), feedback("early", False)])
    assert [(r.transaction_id, r.matched, r.label) for r in results] == [
        ("known", True, LabelEvent("known", "term-7", T0, True)),
        ("early", False, None),
    ]
    with Session(engine) as session:
        stored = session.execute(
            select(LabelRow.transaction_id, LabelRow.is_fraud, LabelRow.known_at)
        ).all()
    assert sorted(stored) == [("early", False, NOW), ("known", True, NOW)]


def test_repeated_feedback_changes_nothing(engine: Engine) -> None:
    add(engine, tx("a"))
    store.record_labels(engine, [feedback("a", note="first")])
    (again,) = store.record_labels(
        engine, [feedback("a", reported_at=NOW + timedelta(days=1), note="again")]
    )
    assert (again.matched, again.label) == (True, None)
    (label,) = store.get_transaction(engine, "a").labels
    assert (label.is_fraud, label.known_at, label.note) == (True, NOW, "first")


def test_feedback_that_changes_the_verdict_updates_the_label(engine: Engine) -> None:
    add(engine, tx("a"))
    store.record_labels(engine, [feedback("a", True)])
    later = NOW + timedelta(days=2)
    (changed,) = store.record_labels(
        engine, [feedback("a", False, reported_at=later, note="dispute won")]
    )
    assert changed.label == LabelEvent("a", "term-1", T0, False)
    (label,) = store.get_transaction(engine, "a").labels
    assert (label.is_fraud, label.known_at, label.note) == (False, later, "dispute won")


def test_labels_from_different_sources_coexist(engine: Engine) -> None:
    add(engine, tx("a"))
    results = store.record_labels(
        engine, [feedback("a", True), feedback("a", True, source=LabelSource.DISPUTE)]
    )
    assert all(r.label is not None for r in results)
    assert sorted(lb.source for lb in store.get_transaction(engine, "a").labels) == [
        LabelSource.CHARGEBACK,
        LabelSource.DISPUTE,
    ]


def test_within_a_batch_the_later_item_for_a_label_wins(engine: Engine) -> None:
    add(engine, tx("a"))
    first, second = store.record_labels(engine, [feedback("a", True), feedback("a", False)])
    assert (first.matched, first.label) == (True, None)
    assert second.label == LabelEvent("a", "term-1", T0, False)
    assert store.pending_label(engine, "a") is False


def test_feedback_refuses_imports_and_naive_times() -> None:
    with pytest.raises(InputError, match="^source: "):
        feedback("a", source=LabelSource.IMPORT)
    with pytest.raises(InputError, match="^reported_at: "):
        feedback("a", reported_at=datetime(2026, 11, 2))


def test_a_full_batch_takes_one_lookup_and_one_write(engine: Engine, statements: list[str]) -> None:
    add(engine, *(tx(f"t{i}", status=None, decision=Decision.APPROVE) for i in range(0, 1000, 2)))
    statements.clear()
    results = store.record_labels(engine, [feedback(f"t{i}", i % 3 == 0) for i in range(1000)])
    assert sum(r.matched for r in results) == sum(r.label is not None for r in results) == 500
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "INSERT"))]) == 2
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(LabelRow)) == 1000


def test_an_empty_batch_records_nothing(engine: Engine) -> None:
    assert store.record_labels(engine, []) == []


def test_pending_label_says_fraud_if_any_source_does(engine: Engine) -> None:
    assert store.pending_label(engine, "later") is None
    store.record_labels(engine, [feedback("later", False)])
    assert service.pending_label(engine, "later") is False
    store.record_labels(engine, [feedback("later", True, source=LabelSource.DISPUTE)])
    assert store.pending_label(engine, "later") is True


def test_concurrent_moves_of_one_case_run_one_after_the_other(engine: Engine) -> None:
    """The first mover holds the case while it is checked; the second sees its result."""
    add(engine, tx("a"))
    first_checking, release = threading.Event(), threading.Event()

    def slow_check(current: S, new: S) -> None:
        first_checking.set()
        release.wait(10)
        check_transition(current, new)

    def first() -> None:
        store.change_status(
            engine, "a", S.UNDER_REVIEW, None, "alice", NOW, check=slow_check, verdict=None
        )

    thread = threading.Thread(target=first)
    thread.start()
    assert first_checking.wait(10)
    threading.Timer(0.3, release.set).start()
    with pytest.raises(ConflictError, match="from UNDER_REVIEW to UNDER_REVIEW"):
        move(engine, "a", S.UNDER_REVIEW, actor="bob")
    thread.join(10)
    history = store.get_transaction(engine, "a").case_history
    assert [(e.from_status, e.to_status, e.actor) for e in history] == [
        (S.NEW, S.UNDER_REVIEW, "alice")
    ]
