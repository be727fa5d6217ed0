"""Features without state: what the pipeline scores on while the feature store is down."""

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from txguard.features.definitions import FEATURE_NAMES
from txguard.features.online import FeatureInput, OnlineFeatures
from txguard.features.state import Append, Event, MemoryStore

SATURDAY_NIGHT = datetime(2018, 4, 7, 3, 15, tzinfo=UTC)
STATELESS = {"amount", "log_amount", "hour", "is_weekend", "is_night"}


class UnreachableStore(MemoryStore):
    """Fails the test if the state is touched at all."""

    def read(self, keys: Sequence[str], after_ms: Sequence[int]) -> list[list[Event]]:
        raise AssertionError("compute_stateless read the store")

    def write(self, appends: Sequence[Append]) -> None:
        raise AssertionError("compute_stateless wrote to the store")


def _tx(n: int, at: datetime, amount: float) -> FeatureInput:
    return FeatureInput(f"tx{n}", int(at.timestamp() * 1000), amount, "card", "term")


def test_only_amount_and_time_are_computed_every_other_feature_is_missing():
    values, ratio = OnlineFeatures(UnreachableStore()).compute_stateless(
        _tx(1, SATURDAY_NIGHT, 42.5)
    )
    named = dict(zip(FEATURE_NAMES, values, strict=True))
    assert named["amount"] == 42.5
    assert named["log_amount"] == math.log1p(42.5)
    assert (named["hour"], named["is_weekend"], named["is_night"]) == (3.0, 1.0, 1.0)
    missing = [name for name in FEATURE_NAMES if name not in STATELESS]
    assert missing and all(math.isnan(named[name]) for name in missing)
    assert math.isnan(ratio)


def test_the_stateless_features_equal_those_of_the_full_computation():
    engine = OnlineFeatures(MemoryStore())
    for n in range(3):
        engine.process(_tx(n, SATURDAY_NIGHT - timedelta(minutes=10 * n), 20.0 + n))
    now = _tx(9, SATURDAY_NIGHT, 75.0)
    full, _ = engine.compute(now)
    stateless, _ = engine.compute_stateless(now)
    for i, name in enumerate(FEATURE_NAMES):
        if name in STATELESS:
            assert stateless[i] == full[i], name
        else:
            assert math.isnan(stateless[i]), name
    assert full[FEATURE_NAMES.index("card_tx_count_1h")] == 4.0  # the state was there
