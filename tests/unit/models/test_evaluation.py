"""Every figure here is small enough to check by hand against SIMULATOR.md's protocol."""

import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from txguard.domain.errors import InputError
from txguard.models.evaluation import (
    DAY_MS,
    evaluate,
    known_compromised,
    policy_outcome,
)

TRAIN = date(2018, 7, 25)
TEST = date(2018, 8, 8)
NOON = DAY_MS // 2


def at(day: date, offset_ms: int = NOON) -> int:
    """Epoch milliseconds of a moment on ``day`` (UTC)."""
    return (day - date(1970, 1, 1)).days * DAY_MS + offset_ms


def frame(rows: list[tuple[object, date, float, float]]) -> pd.DataFrame:
    """Scored transactions from (card, day, score, is_fraud) tuples, amount 10 each."""
    return pd.DataFrame(
        {
            "transaction_id": np.arange(len(rows), dtype=np.int64),
            "time_ms": np.array([at(day) for _, day, _, _ in rows], dtype=np.int64),
            "card": pd.Series([card for card, _, _, _ in rows], dtype=object),
            "amount": np.full(len(rows), 10.0),
            "is_fraud": np.array([fraud for _, _, _, fraud in rows], dtype=float),
            "score": np.array([score for _, _, score, _ in rows], dtype=float),
        }
    )


def history(frauds: list[tuple[object, date]]) -> pd.DataFrame:
    """Labelled history holding only the given frauds."""
    return pd.DataFrame(
        {
            "time_ms": np.array([at(day) for _, day in frauds], dtype=np.int64),
            "card": pd.Series([card for card, _ in frauds], dtype=object),
            "is_fraud": np.ones(len(frauds)),
        }
    )


NO_HISTORY = history([])


def run(scored: pd.DataFrame, past: pd.DataFrame = NO_HISTORY, days: int = 1, k: int = 100):
    return evaluate(
        scored,
        past,
        test_start=TEST,
        test_end=TEST + timedelta(days=days - 1),
        first_train_day=TRAIN,
        top_k=k,
    )


def test_a_perfect_ranking_scores_one() -> None:
    scored = frame(
        [("a", TEST, 0.9, 1), ("b", TEST, 0.8, 1), ("c", TEST, 0.2, 0), ("d", TEST, 0.1, 0)]
    )
    metrics = run(scored)
    assert (metrics.auc_roc, metrics.average_precision) == (1.0, 1.0)
    assert (metrics.transactions, metrics.frauds, metrics.notes) == (4, 2, [])


def test_auc_and_ap_equal_sklearn_on_random_data() -> None:
    rng = np.random.default_rng(7)
    n = 500
    scored = pd.DataFrame(
        {
            "transaction_id": np.arange(n, dtype=np.int64),
            "time_ms": at(TEST, 0) + rng.integers(0, 7 * DAY_MS, n),
            "card": pd.Series([f"c{i}" for i in rng.integers(0, 200, n)], dtype=object),
            "amount": rng.uniform(1, 100, n),
            "is_fraud": (rng.random(n) < 0.1).astype(float),
            "score": rng.random(n),
        }
    )
    metrics = run(scored, days=7)
    assert metrics.auc_roc == pytest.approx(
        roc_auc_score(scored["is_fraud"], scored["score"]), rel=1e-12
    )
    assert metrics.average_precision == pytest.approx(
        average_precision_score(scored["is_fraud"], scored["score"]), rel=1e-12
    )


def test_known_compromised_spans_first_training_day_to_the_day_before() -> None:
    first_day, test_start = at(TRAIN, 0), at(TEST, 0)
    past = pd.DataFrame(
        {
            "time_ms": [first_day - 1, first_day, test_start - 1, test_start, first_day + 5],
            "card": pd.Series(["old", "first", "last", "today", None], dtype=object),
            "is_fraud": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    assert known_compromised(past, test_start, first_day) == {"first", "last"}


def test_cards_with_an_earlier_fraud_leave_the_later_test_days() -> None:
    day2 = TEST + timedelta(days=1)
    scored = frame(
        [
            ("trained", TEST, 0.9, 1),  # fraud in the training week: gone from day 1
            ("fresh", TEST, 0.8, 1),  # first fraud on test day 1: stays on day 1...
            ("fresh", day2, 0.8, 1),  # ...and is gone on day 2
            ("ok", TEST, 0.1, 0),
            ("ok", day2, 0.1, 0),
            ("before", TEST, 0.2, 0),  # its fraud predates the first training day
        ]
    )
    past = history([("trained", TRAIN), ("fresh", TEST), ("before", TRAIN - timedelta(days=1))])
    metrics = run(scored, past, days=2)
    assert metrics.removed_known_compromised == 2
    assert (metrics.transactions, metrics.frauds) == (4, 1)
    assert [(d.cards, d.frauds) for d in metrics.per_day] == [(3, 1), (1, 0)]


def test_the_handbook_rule_blocks_a_card_only_once_its_label_has_arrived() -> None:
    scored = frame([("recent", TEST, 0.9, 1), ("old", TEST, 0.8, 1), ("ok", TEST, 0.1, 0)])
    past = history([("recent", TEST - timedelta(days=3)), ("old", TEST - timedelta(days=9))])
    protocol = run(scored, past)
    handbook = evaluate(
        scored, past, test_start=TEST, test_end=TEST, first_train_day=TRAIN, known_after_days=7
    )
    assert protocol.removed_known_compromised == 2
    assert handbook.removed_known_compromised == 1
    assert (handbook.transactions, handbook.frauds) == (2, 1)
    with pytest.raises(InputError, match="known_after_days"):
        evaluate(scored, past, test_start=TEST, test_end=TEST, first_train_day=TRAIN,
                 known_after_days=-1)  # fmt: skip


def test_card_precision_divides_by_k_even_with_fewer_cards() -> None:
    # Handbook: len(detected) / top_k. Three cards, the one compromised card on top.
    scored = frame(
        [("a", TEST, 0.9, 1), ("a", TEST, 0.1, 0), ("b", TEST, 0.5, 0), ("c", TEST, 0.4, 0)]
    )
    assert run(scored).card_precision_at_k == 1 / 100
    top_two = run(scored, k=2)
    assert top_two.card_precision_at_k == 0.5
    assert top_two.per_day[0].to_dict() == {
        "day": "2018-08-08",
        "card_precision": 0.5,
        "cards": 3,
        "frauds": 1,
        "detected": 1,
    }


def test_a_card_is_scored_by_its_riskiest_transaction() -> None:
    # b's fraud has a low score, but its other transaction puts the card first.
    scored = frame([("a", TEST, 0.8, 0), ("b", TEST, 0.9, 0), ("b", TEST, 0.1, 1)])
    assert run(scored, k=1).card_precision_at_k == 1.0


def test_detected_cards_are_set_aside_for_later_days() -> None:
    # History ends before the test, so only the set-aside rule can drop card a on day 2.
    day2 = TEST + timedelta(days=1)
    scored = frame(
        [
            ("a", TEST, 0.9, 1),  # detected on day 1 with k=1
            ("b", TEST, 0.5, 1),  # compromised but ranked below k: stays in
            ("a", day2, 0.9, 0),  # would take the only slot if a were not set aside
            ("b", day2, 0.5, 1),
            ("c", day2, 0.1, 0),
        ]
    )
    metrics = run(scored, days=2, k=1)
    assert [(d.card_precision, d.cards, d.detected) for d in metrics.per_day] == [
        (1.0, 2, 1),
        (1.0, 2, 1),
    ]
    assert metrics.card_precision_at_k == 1.0


def test_a_day_emptied_by_set_aside_cards_counts_zero() -> None:
    # As in the handbook, whose day list is taken before detected cards are set aside.
    scored = frame([("a", TEST, 0.9, 1), ("a", TEST + timedelta(days=1), 0.9, 1)])
    metrics = run(scored, days=2, k=1)
    assert [(d.card_precision, d.cards) for d in metrics.per_day] == [(1.0, 1), (0.0, 0)]
    assert metrics.card_precision_at_k == 0.5


def test_card_precision_is_the_mean_over_test_days() -> None:
    day2 = TEST + timedelta(days=1)
    scored = frame(
        [("a", TEST, 0.9, 1), ("b", TEST, 0.1, 0), ("c", day2, 0.9, 0), ("d", day2, 0.1, 1)]
    )
    metrics = run(scored, days=2, k=1)
    assert [d.card_precision for d in metrics.per_day] == [1.0, 0.0]
    assert metrics.card_precision_at_k == 0.5


def test_equal_scores_rank_cards_by_id() -> None:
    scored = frame([("b", TEST, 0.5, 1), ("a", TEST, 0.5, 0), ("c", TEST, 0.5, 1)])
    assert run(scored, k=1).card_precision_at_k == 0.0
    assert run(scored, k=2).card_precision_at_k == 0.5


def test_unknown_labels_leave_auc_and_ap_and_are_not_fraud_for_cp() -> None:
    scored = frame([("u", TEST, 0.99, np.nan), ("a", TEST, 0.9, 1), ("b", TEST, 0.1, 0)])
    metrics = run(scored, k=1)
    assert (metrics.auc_roc, metrics.average_precision) == (1.0, 1.0)
    assert metrics.card_precision_at_k == 0.0
    assert (metrics.transactions, metrics.frauds) == (3, 1)
    assert metrics.notes == ["1 test transactions with unknown label left out of AUC ROC and AP"]


def test_without_card_ids_card_precision_is_none() -> None:
    scored = frame([(None, TEST, 0.9, 1), (None, TEST, 0.1, 0)])
    metrics = run(scored)
    assert metrics.card_precision_at_k is None
    assert metrics.per_day == []
    assert metrics.auc_roc == 1.0
    assert any("CP@100 needs card ids" in note for note in metrics.notes)


def test_a_single_class_leaves_auc_and_ap_undefined() -> None:
    metrics = run(frame([("a", TEST, 0.9, 0), ("b", TEST, 0.1, 0)]))
    assert (metrics.auc_roc, metrics.average_precision) == (None, None)
    assert metrics.card_precision_at_k == 0.0
    assert any("only one class" in note for note in metrics.notes)


def test_rows_and_days_outside_the_data_are_noted() -> None:
    scored = frame(
        [("a", TEST - timedelta(days=1), 0.9, 1), ("a", TEST, 0.9, 1), ("b", TEST, 0.1, 0)]
    )
    metrics = run(scored, days=2)
    assert metrics.transactions == 2
    assert len(metrics.per_day) == 1
    assert metrics.notes == [
        "1 scored transactions outside the test days ignored",
        "CP@100: no remaining transaction on 2018-08-09; left out of the average",
    ]


def test_nullable_dtypes_read_like_plain_ones() -> None:
    rows = [
        ("a", TEST, 0.9, 1),
        ("b", TEST, 0.5, np.nan),
        ("c", TEST, 0.1, 0),
        (None, TEST, 0.2, 0),
    ]
    plain = frame(rows)
    nullable = plain.astype({"card": "string", "is_fraud": "Int8", "score": "Float64"})
    past = history([("c", TRAIN)]).astype({"card": "string", "is_fraud": "Int8"})
    assert run(nullable, past).to_dict() == run(plain, history([("c", TRAIN)])).to_dict()
    assert run(nullable, past).removed_known_compromised == 1


def test_metrics_are_json_ready() -> None:
    metrics = run(frame([("a", TEST, 0.9, 1), ("b", TEST, 0.1, 0)]))
    data = json.loads(json.dumps(metrics.to_dict()))
    assert data["per_day"][0]["day"] == "2018-08-08"
    assert data["card_precision_at_k"] == 0.01


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"test_end": TEST - timedelta(days=1)}, "test_end"),
        ({"first_train_day": TEST + timedelta(days=1)}, "first_train_day"),
        ({"top_k": 0}, "top_k"),
    ],
)
def test_an_impossible_period_names_the_setting(change: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"test_start": TEST, "test_end": TEST, "first_train_day": TRAIN}
    with pytest.raises(InputError, match=f"^{field}:"):
        evaluate(frame([]), NO_HISTORY, **(arguments | change))  # type: ignore[arg-type]


def test_bad_input_names_the_column() -> None:
    with pytest.raises(InputError, match="^scored: missing column.*score"):
        run(frame([("a", TEST, 0.9, 1)]).drop(columns="score"))
    with pytest.raises(InputError, match="^score:"):
        run(frame([("a", TEST, np.nan, 1)]))
    with pytest.raises(InputError, match="^is_fraud:"):
        run(frame([("a", TEST, 0.5, 2)]))


def decisions(rows: list[tuple[float, float, str]]) -> pd.DataFrame:
    """A policy's output from (amount, is_fraud, decision) tuples."""
    amount, fraud, decision = zip(*rows, strict=True)
    return pd.DataFrame({"amount": amount, "is_fraud": fraud, "decision": decision})


def test_policy_outcome_in_money() -> None:
    scored = decisions(
        [
            (100.0, 1, "block"),  # caught
            (50.0, 1, "review"),  # caught
            (30.0, 1, "approve"),  # missed
            (20.0, 0, "block"),  # a legitimate payment blocked
            (10.0, 0, "review"),  # a wasted review
            (5.0, 0, "approve"),
            (7.0, np.nan, "approve"),  # unknown label: not fraud
        ]
    )
    outcome = policy_outcome(scored, review_cost=5.0, fraud_loss_share=0.5, days=2)
    assert outcome.to_dict() == {
        "days": 2,
        "transactions": 7,
        "alerts": 4,
        "alerts_per_day": 2.0,
        "precision": 0.5,
        "frauds_caught": 2,
        "frauds_caught_amount": 150.0,
        "frauds_missed": 1,
        "frauds_missed_amount": 30.0,
        "legitimate_blocked": 1,
        "legitimate_blocked_amount": 20.0,
        "review_costs": 20.0,
        "fraud_prevented": 75.0,
        "fraud_lost": 15.0,
        "net": 55.0,
    }


def test_a_policy_without_alerts_has_no_precision() -> None:
    outcome = policy_outcome(decisions([(30.0, 1, "approve")]), days=1)
    assert (outcome.alerts, outcome.precision, outcome.net, outcome.fraud_lost) == (
        0,
        None,
        0.0,
        30.0,
    )


def test_policy_refuses_unknown_decisions_and_settings() -> None:
    with pytest.raises(InputError, match="^decision: unknown value.*hold"):
        policy_outcome(decisions([(1.0, 0, "hold")]), days=1)
    with pytest.raises(InputError, match="^days:"):
        policy_outcome(decisions([(1.0, 0, "approve")]), days=0)
    with pytest.raises(InputError, match="^review_cost:"):
        policy_outcome(decisions([(1.0, 0, "approve")]), review_cost=-1.0, days=1)
