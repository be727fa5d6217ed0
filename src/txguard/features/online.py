"""Features for one transaction at a time, from state kept per card and per terminal.

This is what scores a live authorisation: read the card's and the terminal's recent events
(one trip to the store), compute every feature, then record the transaction (a second trip).
Label-based features read only frauds that happened at least ``label_delay`` before the
transaction being scored, and only once their label has been reported, so a label can never
leak into a score earlier than it would in production.
"""

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import countOf, itemgetter, mul

from txguard.features.definitions import (
    CARD_WINDOWS,
    DAY,
    FEATURE_NAMES,
    HISTORY,
    LABEL_WINDOWS,
    LARGE_RATIO,
    RECENT_LABELS,
    TERMINAL_WINDOWS,
    FeatureConfig,
)
from txguard.features.state import Append, Event, MemoryStore, StagedStore, StateStore

MS = 1000
NAN = math.nan
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
_CARD_WINDOWS_MS = sorted(((int(w * MS), n) for n, w in CARD_WINDOWS.items()), reverse=True)
_TERMINAL_WINDOWS_MS = [(int(w * MS), n) for n, w in TERMINAL_WINDOWS.items()]
_LABEL_WINDOWS_MS = [(int(w * MS), n) for n, w in LABEL_WINDOWS.items()]
_LONGEST_LABEL_MS = max(w for w, _ in _LABEL_WINDOWS_MS)
_HISTORY_MS = int(HISTORY * MS)
_DAY_MS = int(DAY * MS)
_WEEK_MS = 7 * _DAY_MS
_HOUR_MS = 3_600 * MS

# Where each feature goes, looked up once: the hot path never formats a name.
_CARD_SLOTS = tuple(
    (
        width,
        _INDEX[f"card_tx_count_{name}"],
        _INDEX[f"card_amount_sum_{name}"],
        _INDEX[f"card_amount_mean_{name}"],
    )
    for width, name in sorted(_CARD_WINDOWS_MS)
)
_TERMINAL_SLOTS = tuple(
    (width, _INDEX[f"terminal_tx_count_{name}"]) for width, name in _TERMINAL_WINDOWS_MS
)
_LABEL_SLOTS = tuple(
    (width, _INDEX[f"terminal_fraud_count_{name}"], _INDEX[f"terminal_fraud_rate_{name}"])
    for width, name in _LABEL_WINDOWS_MS
)
_AMOUNT_AT = _INDEX["amount"]
_LOG_AMOUNT_AT = _INDEX["log_amount"]
_HOUR_AT = _INDEX["hour"]
_WEEKEND_AT = _INDEX["is_weekend"]
_NIGHT_AT = _INDEX["is_night"]
_RATIO_AT = _INDEX["card_amount_ratio_30d"]
_ZSCORE_AT = _INDEX["card_amount_zscore_30d"]
_GAP_AT = _INDEX["card_seconds_since_prev"]
_LARGE_AT = _INDEX["card_large_count_7d"]
_SEEN_AT = _INDEX["card_terminal_seen_30d"]
_SINCE_FRAUD_AT = _INDEX["terminal_days_since_fraud"]
_SINCE_FIRST_AT = _INDEX["terminal_days_since_first_fraud"]
_SHARE_SINCE_FIRST_AT = _INDEX["terminal_fraud_share_since_first"]
_SHARE_RECENT_AT = _INDEX[f"terminal_fraud_share_last{RECENT_LABELS}"]

# Fields of an ``Event``, read by C-level maps rather than Python loops.
_TIME = itemgetter(0)
_TAG = itemgetter(2)
_VALUE = itemgetter(3)
_FLAG = itemgetter(4)

SPREAD_CHECK = 1e-3
"""Below this variance-to-squared-mean ratio, the one-pass variance is recomputed in two passes
(both paths do), since the sum of squares then cancels too many digits."""


@dataclass(slots=True)
class FeatureInput:
    """What features need of a transaction; ``card`` and ``terminal`` may be unknown.

    Not frozen: a frozen dataclass's constructor costs about three times as much, and one
    is built per transaction on the authorisation path. Treat it as read-only.
    """

    transaction_id: str
    time_ms: int
    amount: float
    card: str | None = None
    terminal: str | None = None


def horizon_ms(config: FeatureConfig) -> int:
    """How far back any feature looks: older state is never read again."""
    return max(
        _HISTORY_MS,
        max(w for w, _ in _TERMINAL_WINDOWS_MS),
        delay_ms(config) + _LONGEST_LABEL_MS,
    )


def delay_ms(config: FeatureConfig) -> int:
    """The label delay in whole milliseconds."""
    return round(config.delay_seconds * MS)


def time_features(time_ms: int, values: list[float]) -> None:
    """Hour of day, weekend and night flags, in UTC."""
    hour = (time_ms // _HOUR_MS) % 24
    weekday = (time_ms // _DAY_MS + 3) % 7  # 1970-01-01 was a Thursday
    values[_HOUR_AT] = float(hour)
    values[_WEEKEND_AT] = 1.0 if weekday >= 5 else 0.0
    values[_NIGHT_AT] = 1.0 if hour <= 6 else 0.0


def stateless_values(tx: FeatureInput) -> list[float]:
    """Amount and time features, which need no state; every other feature is NaN."""
    values = [NAN] * len(FEATURE_NAMES)
    values[_AMOUNT_AT] = tx.amount
    values[_LOG_AMOUNT_AT] = math.log1p(tx.amount)
    time_features(tx.time_ms, values)
    return values


def card_features(tx: FeatureInput, history: list[Event], values: list[float]) -> float:
    """The card's windows (current included) and its previous 30 days; returns the ratio.

    ``history`` holds the card's previous events of the last 30 days, oldest first. Windows
    are found by bisection and summed by C-level maps, so the cost grows slowly with history.
    """
    t, amount = tx.time_ms, tx.amount
    n = len(history)
    amounts = list(map(_VALUE, history))
    end = n
    running = 0.0
    for width, count_at, sum_at, mean_at in _CARD_SLOTS:  # shortest window first
        start = bisect_right(history, t - width, key=_TIME)
        running += sum(amounts[start:end])
        end = start
        count = n - start + 1
        total = running + amount
        values[count_at] = float(count)
        values[sum_at] = total
        values[mean_at] = total / count
    week = bisect_right(history, t - _WEEK_MS, key=_TIME)
    values[_LARGE_AT] = float(sum(map(_FLAG, history[week:])))
    if tx.terminal is not None:
        values[_SEEN_AT] = float(countOf(map(_TAG, history), tx.terminal))
    values[_GAP_AT] = (t - history[-1][0]) / MS if history else NAN
    previous = running + sum(amounts[:end])  # the whole history, should it reach further
    ratio, zscore = history_stats(amount, n, previous, history_variance(amounts, previous))
    values[_RATIO_AT] = ratio
    values[_ZSCORE_AT] = zscore
    return ratio


def history_variance(amounts: list[float], total: float) -> float:
    """Population variance of ``amounts`` (whose sum is ``total``); NaN for fewer than two.

    One pass over the sum of squares, or two passes when the spread is tiny against the
    mean (see ``SPREAD_CHECK``); the batch path follows the same rule.
    """
    count = len(amounts)
    if count < 2:
        return NAN
    mean = total / count
    squares: float = sum(map(mul, amounts, amounts))
    variance = squares / count - mean * mean
    if variance < SPREAD_CHECK * mean * mean:
        variance = sum((a - mean) * (a - mean) for a in amounts) / count
    return variance


def history_stats(amount: float, count: int, total: float, variance: float) -> tuple[float, float]:
    """The amount against ``count`` previous amounts (ratio to mean, z-score); NaN if undefined.

    Shared by the online and batch paths so both treat degenerate histories alike: no
    history gives no ratio, fewer than two amounts or (numerically) no spread gives no z-score.

    >>> history_stats(30.0, 2, 20.0, 0.0)
    (3.0, nan)
    """
    if count == 0:
        return NAN, NAN
    mean = total / count
    ratio = amount / mean if mean > 0 else NAN
    if count < 2 or not variance > 1e-9 * max(mean * mean, 1.0):
        return ratio, NAN
    return ratio, (amount - mean) / math.sqrt(variance)


LARGE_ABOVE = LARGE_RATIO * (1 + 1e-9)
"""Unusually large: above 3 x the card's 30-day average, with a margin so an amount of exactly
3 x the average is "not large" on both paths despite their different summation order."""


def is_large(ratio: float) -> bool:
    """Whether an amount counts as unusually large for its card."""
    return ratio > LARGE_ABOVE


def terminal_features(
    t: int, delay: int, seen: list[Event], frauds: list[Event], values: list[float]
) -> None:
    """Terminal counts (current included) and fraud counts, rates and shares over delayed windows.

    ``seen`` are the terminal's previous transactions and ``frauds`` its reported frauds, both
    keyed by when they happened, oldest first. Only frauds and transactions at least ``delay``
    old are read for the label features, and only those of the longest label window.
    """
    n = len(seen)
    for width, count_at in _TERMINAL_SLOTS:
        values[count_at] = float(n - bisect_right(seen, t - width, key=_TIME) + 1)
    end = t - delay
    fraud_times = list(map(_TIME, frauds))
    seen_end = bisect_right(seen, end, key=_TIME)
    fraud_end = bisect_right(fraud_times, end)
    for width, count_at, rate_at in _LABEL_SLOTS:
        start = end - width
        fraud_count = fraud_end - bisect_right(fraud_times, start)
        tx_count = seen_end - bisect_right(seen, start, key=_TIME)
        values[count_at] = float(fraud_count)
        values[rate_at] = fraud_count / tx_count if tx_count else 0.0
    oldest = end - _LONGEST_LABEL_MS
    first = bisect_right(fraud_times, oldest)
    if first < fraud_end:
        values[_SINCE_FRAUD_AT] = (t - fraud_times[fraud_end - 1]) / _DAY_MS
        since = fraud_times[first]
        values[_SINCE_FIRST_AT] = (t - since) / _DAY_MS
        values[_SHARE_SINCE_FIRST_AT] = fraud_share(
            fraud_end - first, seen_end - bisect_left(seen, since, key=_TIME)
        )
    labelled = bisect_right(seen, oldest, key=_TIME)
    if labelled < seen_end:
        since = seen[max(seen_end - RECENT_LABELS, labelled)][0]
        values[_SHARE_RECENT_AT] = fraud_share(
            fraud_end - bisect_left(fraud_times, since),
            seen_end - bisect_left(seen, since, key=_TIME),
        )


def fraud_share(frauds: int, transactions: int) -> float:
    """Frauds among a terminal's transactions; never above 1, even for labels of unseen ones."""
    return frauds / max(transactions, frauds)


class OnlineFeatures:
    """Computes features one transaction at a time and keeps the state they need."""

    def __init__(self, store: StateStore, config: FeatureConfig | None = None) -> None:
        self.store = store
        self.config = config or FeatureConfig()
        self._delay = delay_ms(self.config)
        self._horizon = horizon_ms(self.config)
        self._fraud_horizon = self._delay + _LONGEST_LABEL_MS
        self._last_evict = -(2**62)

    def on(self, store: StateStore) -> "OnlineFeatures":
        """The same features (same configuration) over another store."""
        return OnlineFeatures(store, self.config)

    @property
    def shared(self) -> bool:
        """Whether the state lives outside this process (each read and write a round trip)."""
        return not isinstance(self.store, MemoryStore)

    def stage(self, txs: Sequence[FeatureInput]) -> StagedStore:
        """The state ``txs`` need, read in one trip (may raise ``FeatureStoreUnavailable``);
        compute and record them inside ``using`` it, then ``flush`` it."""
        wanted: dict[str, int] = {}
        for tx in txs:
            for key, after in zip(*self._reads(tx), strict=True):
                wanted[key] = min(after, wanted.get(key, after))
        return StagedStore(self.store, list(wanted), list(wanted.values()))

    @contextmanager
    def using(self, stage: StagedStore) -> Iterator[None]:
        """Compute and record against ``stage`` inside the block.

        Only for the one thread that scores, which alone touches the features while serving.
        """
        shared, self.store = self.store, stage
        try:
            yield
        finally:
            self.store = shared

    @property
    def memory_ms(self) -> int:
        """How far back state reaches: replaying this much history rebuilds it exactly."""
        return max(_HISTORY_MS, self._horizon, self._fraud_horizon)

    def compute(self, tx: FeatureInput) -> tuple[list[float], float]:
        """The feature values, in ``FEATURE_NAMES`` order, and the card ratio (for ``record``)."""
        values = stateless_values(tx)
        keys, after = self._reads(tx)
        found = self.store.read(keys, after) if keys else []
        ratio = NAN
        slot = 0
        if tx.card is not None:
            ratio = card_features(tx, found[0], values)
            slot = 1
        if tx.terminal is not None:
            terminal_features(tx.time_ms, self._delay, found[slot], found[slot + 1], values)
        return values, ratio

    def compute_stateless(self, tx: FeatureInput) -> tuple[list[float], float]:
        """What ``compute`` gives when the state cannot be read: the transaction's own features.

        Behavioural features stay NaN: the models handle missing values, whereas an invented
        count would tell them the card has no history, which looks like a fresh stolen card.
        The ratio is NaN, so ``record`` does not flag the amount as unusually large.
        """
        return stateless_values(tx), NAN

    def _reads(self, tx: FeatureInput) -> tuple[list[str], list[int]]:
        keys: list[str] = []
        after: list[int] = []
        if tx.card is not None:
            keys.append("c:" + tx.card)
            after.append(tx.time_ms - _HISTORY_MS)
        if tx.terminal is not None:
            keys += ["t:" + tx.terminal, "f:" + tx.terminal]
            after += [tx.time_ms - self._horizon, tx.time_ms - self._fraud_horizon]
        return keys, after

    def record(self, tx: FeatureInput, ratio: float) -> None:
        """Adds the transaction to its card's and terminal's state."""
        appends: list[Append] = []
        t = tx.time_ms
        if tx.card is not None:
            event = (t, tx.transaction_id, tx.terminal or "", tx.amount, int(is_large(ratio)))
            appends.append(Append("c:" + tx.card, event, t - _HISTORY_MS))
        if tx.terminal is not None:
            event = (t, tx.transaction_id, "", 0.0, 0)
            appends.append(Append("t:" + tx.terminal, event, t - self._horizon))
        if appends:
            self.store.write(appends)
        if t - self._last_evict >= _DAY_MS:
            self.store.evict(t - self._horizon)
            self._last_evict = t

    def process(self, tx: FeatureInput) -> list[float]:
        """Computes the features of ``tx``, then records it: the online path in one call."""
        values, ratio = self.compute(tx)
        self.record(tx, ratio)
        return values

    def add_label(
        self, transaction_id: str, terminal: str | None, time_ms: int, fraud: bool
    ) -> None:
        """A reported label of a transaction that happened at ``time_ms``.

        Only frauds matter to the terminal features; the delay is applied when reading, so a
        label reported early (an analyst's verdict) is still not used before it is old enough.
        """
        if not fraud or terminal is None:
            return
        event = (time_ms, transaction_id, "", 0.0, 0)
        self.store.write([Append("f:" + terminal, event, time_ms - self._fraud_horizon)])
