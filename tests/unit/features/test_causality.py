"""No feature sees the future, and no label is used before it is old enough (SIMULATOR.md)."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from txguard.features.definitions import FEATURE_NAMES, LABEL_FEATURES, FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.replay import replay_features
from txguard.features.state import MemoryStore

DAY_MS = 86_400_000
SEVEN_DAYS = 7 * DAY_MS


def _features(frame: pd.DataFrame, config: FeatureConfig) -> pd.DataFrame:
    return replay_features(frame, OnlineFeatures(MemoryStore(), config))


def _changed(a: pd.DataFrame, b: pd.DataFrame, rows: np.ndarray, names) -> list[str]:
    return [
        name
        for name in names
        if not np.array_equal(a.loc[rows, name], b.loc[rows, name], equal_nan=True)
    ]


def _cutoff(frame: pd.DataFrame) -> int:
    return int(frame["time_ms"].min() + 30 * DAY_MS)


def _labels_scrambled(frame: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Every label of a transaction at or after the cut-off flipped."""
    out = frame.copy()
    after = out["time_ms"] >= cutoff
    out.loc[after, "is_fraud"] = 1.0 - out.loc[after, "is_fraud"]
    return out


def _transactions_scrambled(frame: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Every transaction at or after the cut-off given another card, terminal, amount, label."""
    out = frame.copy()
    after = (out["time_ms"] >= cutoff).to_numpy()
    rng = np.random.default_rng(0)
    for column in ("card", "terminal", "amount", "is_fraud"):
        out.loc[after, column] = rng.permutation(out.loc[after, column].to_numpy())
    out.loc[after, "amount"] = out.loc[after, "amount"] * 3.0 + 1.0
    return out


def label_leaks(frame: pd.DataFrame, config: FeatureConfig) -> list[str]:
    """Label features of transactions before cut-off + 7 days that scrambled labels changed."""
    cutoff = _cutoff(frame)
    base = _features(frame, config)
    scrambled = _features(_labels_scrambled(frame, cutoff), config)
    early = (frame["time_ms"] < cutoff + SEVEN_DAYS).to_numpy()
    late = ~early
    assert _changed(base, scrambled, late, LABEL_FEATURES), "the scramble had no effect at all"
    assert not _changed(base, scrambled, early, set(FEATURE_NAMES) - LABEL_FEATURES)
    return _changed(base, scrambled, early, sorted(LABEL_FEATURES))


def test_scrambled_labels_change_no_label_feature_within_the_delay(causal_history):
    assert label_leaks(causal_history, FeatureConfig(label_delay=timedelta(days=7))) == []


def test_a_six_day_delay_is_caught_as_a_leak(causal_history):
    leaks = label_leaks(causal_history, FeatureConfig(label_delay=timedelta(days=6)))
    assert "terminal_fraud_count_28d" in leaks


@pytest.mark.parametrize("delay_days", [7, 14])
def test_scrambled_future_transactions_change_nothing_before_the_cutoff(causal_history, delay_days):
    config = FeatureConfig(label_delay=timedelta(days=delay_days))
    cutoff = _cutoff(causal_history)
    base = _features(causal_history, config)
    scrambled = _features(_transactions_scrambled(causal_history, cutoff), config)
    before = (causal_history["time_ms"] < cutoff).to_numpy()
    assert _changed(base, scrambled, before, FEATURE_NAMES) == []
    assert _changed(base, scrambled, ~before, FEATURE_NAMES) != []
