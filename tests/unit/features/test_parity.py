"""The online path and the batch path give the same features (DESIGN.md "data flow")."""

import numpy as np
import pandas as pd

from txguard.features.batch import compute_batch
from txguard.features.definitions import FEATURE_NAMES, FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.replay import replay_features
from txguard.features.state import MemoryStore


def _mismatches(online: pd.DataFrame, batch: pd.DataFrame) -> dict[str, int]:
    out = {}
    for name in FEATURE_NAMES:
        same = np.isclose(
            online[name].to_numpy(), batch[name].to_numpy(), rtol=1e-9, atol=1e-9, equal_nan=True
        )
        if not same.all():
            out[name] = int((~same).sum())
    return out


def test_every_feature_online_equals_batch_on_100k_transactions(parity_history):
    assert len(parity_history) >= 100_000
    online = replay_features(parity_history, OnlineFeatures(MemoryStore()))
    assert _mismatches(online, compute_batch(parity_history)) == {}
    assert online["terminal_fraud_count_28d"].max() > 0, "labels reached the features"
    assert online["card_large_count_7d"].max() > 0
    assert online["terminal_fraud_share_last5"].between(0.0, 1.0).any()
    assert (online["terminal_fraud_share_since_first"] < 1.0).any()


def test_parity_holds_with_unknown_cards_terminals_and_labels(causal_history):
    frame = causal_history.copy()
    rng = np.random.default_rng(5)
    frame.loc[rng.random(len(frame)) < 0.05, "card"] = None
    frame.loc[rng.random(len(frame)) < 0.05, "terminal"] = None
    frame.loc[rng.random(len(frame)) < 0.2, "is_fraud"] = np.nan
    config = FeatureConfig()
    online = replay_features(frame, OnlineFeatures(MemoryStore(), config))
    assert _mismatches(online, compute_batch(frame, config)) == {}
    no_card = frame["card"].isna().to_numpy()
    assert online.loc[no_card, "card_tx_count_1d"].isna().all()
    assert online.loc[~no_card, "card_tx_count_1d"].notna().all()
