"""Online features on small hand-made histories, where every value can be checked by hand."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from txguard.features.definitions import FEATURE_NAMES, FeatureConfig, describe
from txguard.features.online import (
    FeatureInput,
    OnlineFeatures,
    history_stats,
    history_variance,
)
from txguard.features.state import MemoryStore

START = datetime(2018, 4, 2, 12, 0, tzinfo=UTC)  # a Monday
DAY = 86_400_000


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _tx(n: int, at: datetime, amount: float, card="A", terminal="T1") -> FeatureInput:
    return FeatureInput(f"tx{n}", _ms(at), amount, card, terminal)


def _named(values: list[float]) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, values, strict=True))


@pytest.fixture
def engine() -> OnlineFeatures:
    return OnlineFeatures(MemoryStore(), FeatureConfig(label_delay=timedelta(days=7)))


def test_card_windows_ratio_and_gap(engine):
    engine.process(_tx(1, START, 10.0))
    engine.process(_tx(2, START + timedelta(minutes=30), 20.0, terminal="T2"))
    engine.process(_tx(3, START + timedelta(days=2), 30.0))
    f = _named(engine.process(_tx(4, START + timedelta(days=2, minutes=10), 200.0)))
    assert f["card_tx_count_1h"] == 2 and f["card_amount_sum_1h"] == 230.0
    assert f["card_tx_count_1d"] == 2
    assert f["card_tx_count_7d"] == 4 and f["card_amount_mean_7d"] == 65.0
    assert f["card_amount_ratio_30d"] == pytest.approx(200.0 / 20.0)
    assert f["card_amount_zscore_30d"] == pytest.approx((200 - 20) / math.sqrt(200 / 3))
    assert f["card_seconds_since_prev"] == 600.0
    assert f["card_terminal_seen_30d"] == 2.0
    later = _named(engine.process(_tx(5, START + timedelta(days=3), 10.0)))
    assert later["card_large_count_7d"] == 1.0


def test_a_first_transaction_has_counts_but_no_history(engine):
    f = _named(engine.process(_tx(1, START, 42.0)))
    assert f["card_tx_count_30d"] == 1.0 and f["terminal_tx_count_1d"] == 1.0
    for name in ("card_amount_ratio_30d", "card_seconds_since_prev", "terminal_days_since_fraud"):
        assert math.isnan(f[name]), name


def test_unknown_card_and_terminal_give_missing_features_not_zeros(engine):
    f = _named(engine.process(FeatureInput("tx1", _ms(START), 5.0)))
    assert f["amount"] == 5.0 and f["log_amount"] == pytest.approx(math.log(6.0))
    assert math.isnan(f["card_tx_count_1h"]) and math.isnan(f["terminal_tx_count_1d"])


def test_time_of_day_flags_are_utc():
    engine = OnlineFeatures(MemoryStore())
    saturday_night = datetime(2018, 4, 7, 3, 0, tzinfo=UTC)
    f = _named(engine.process(_tx(1, saturday_night, 1.0)))
    assert (f["hour"], f["is_weekend"], f["is_night"]) == (3.0, 1.0, 1.0)
    f = _named(engine.process(_tx(2, START, 1.0)))
    assert (f["hour"], f["is_weekend"], f["is_night"]) == (12.0, 0.0, 0.0)


def test_a_fraud_counts_only_once_it_is_seven_days_old(engine):
    engine.process(_tx(2, START - timedelta(hours=1), 10.0, card="C"))
    engine.process(_tx(1, START, 10.0, card="B"))
    engine.add_label("tx1", "T1", _ms(START), fraud=True)  # reported at once by an analyst
    early = _named(engine.process(_tx(3, START + timedelta(days=6, hours=23), 10.0)))
    assert early["terminal_fraud_count_28d"] == 0.0
    assert math.isnan(early["terminal_days_since_fraud"])
    due = _named(engine.process(_tx(4, START + timedelta(days=7), 10.0)))
    assert due["terminal_fraud_count_28d"] == 1.0 and due["terminal_fraud_count_1d"] == 1.0
    assert due["terminal_fraud_rate_1d"] == pytest.approx(1 / 2)
    assert due["terminal_days_since_fraud"] == pytest.approx(7.0)
    engine.add_label("tx1", "T1", _ms(START), fraud=True)  # the chargeback, for the same fraud
    again = _named(engine.process(_tx(5, START + timedelta(days=8), 10.0)))
    assert again["terminal_fraud_count_28d"] == 1.0
    assert again["terminal_fraud_count_1d"] == 0.0


def test_non_fraud_labels_and_labels_without_terminal_are_ignored(engine):
    engine.add_label("tx1", "T1", _ms(START), fraud=False)
    engine.add_label("tx2", None, _ms(START), fraud=True)
    assert engine.store.size() == 0


def test_state_stays_bounded_as_days_go_by():
    engine = OnlineFeatures(MemoryStore())
    sizes = []
    for day in range(120):
        for n in range(20):
            at = START + timedelta(days=day, minutes=n)
            engine.process(_tx(day * 100 + n, at, 10.0, card=f"c{n % 5}", terminal=f"t{day}"))
        sizes.append(engine.store.size())
    assert sizes[-1] == sizes[60]
    assert sizes[-1] <= 20 * 36 * 2


def test_history_stats_degenerate_cases():
    assert all(math.isnan(v) for v in history_stats(5.0, 0, 0.0, math.nan))
    ratio, zscore = history_stats(5.0, 3, 15.0, 0.0)
    assert ratio == 1.0 and math.isnan(zscore)


def test_history_variance_keeps_its_digits_when_the_spread_is_tiny():
    amounts = [1e6, 1e6 + 0.01, 1e6 + 0.02]
    assert history_variance(amounts, sum(amounts)) == pytest.approx(0.01**2 * 2 / 3, rel=1e-6)
    assert history_variance([4.0, 8.0], 12.0) == 4.0
    assert math.isnan(history_variance([4.0], 4.0))


def test_every_feature_is_described_for_analysts():
    assert all(describe(name) for name in FEATURE_NAMES)


def test_an_attack_on_a_terminal_is_dated_from_its_first_usable_fraud(engine):
    for day in range(7):  # one payment a day on T2; days 0 and 5 turn out to be fraud
        engine.process(_tx(day, START + timedelta(days=day), 10.0, card=f"c{day}", terminal="T2"))
    for day in (0, 5):
        engine.add_label(f"tx{day}", "T2", _ms(START + timedelta(days=day)), fraud=True)
    f = _named(engine.process(_tx(9, START + timedelta(days=13, hours=12), 10.0, terminal="T2")))
    assert f["terminal_days_since_fraud"] == pytest.approx(8.5)
    assert f["terminal_days_since_first_fraud"] == pytest.approx(13.5)
    assert f["terminal_fraud_share_since_first"] == pytest.approx(2 / 7)  # days 0..6
    assert f["terminal_fraud_share_last5"] == pytest.approx(1 / 5)  # days 2..6


def test_the_fraud_share_since_the_first_fraud_counts_only_labelled_payments(engine):
    for day in range(4):
        engine.process(_tx(day, START + timedelta(days=day), 10.0, card=f"c{day}"))
    for day in (1, 2):
        engine.add_label(f"tx{day}", "T1", _ms(START + timedelta(days=day)), fraud=True)
    f = _named(engine.process(_tx(9, START + timedelta(days=10), 10.0)))
    assert f["terminal_days_since_first_fraud"] == pytest.approx(9.0)
    assert f["terminal_fraud_share_since_first"] == pytest.approx(2 / 3)  # days 1, 2 and 3
    assert f["terminal_fraud_share_last5"] == pytest.approx(2 / 4)  # only 4 are labelled
    fresh = _named(engine.process(_tx(10, START + timedelta(days=10), 10.0, terminal="T3")))
    for name in ("terminal_days_since_first_fraud", "terminal_fraud_share_last5"):
        assert math.isnan(fresh[name]), name


def test_a_terminal_without_usable_fraud_has_a_zero_share_but_no_attack_age(engine):
    engine.process(_tx(1, START, 10.0))
    engine.add_label("tx1", "T1", _ms(START), fraud=False)
    f = _named(engine.process(_tx(2, START + timedelta(days=8), 10.0)))
    assert f["terminal_fraud_share_last5"] == 0.0
    assert math.isnan(f["terminal_days_since_first_fraud"])
    assert math.isnan(f["terminal_fraud_share_since_first"])
