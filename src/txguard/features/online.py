"""Features for one transaction at a time, from state kept per card and per terminal.

This is what scores a live authorisation: read the card's and the terminal's recent events
(one trip to the store), compute every feature, then record the transaction (a second trip).
Label-based features read only frauds that happened at least ``label_delay`` before the
transaction being scored, and only once their label has been reported, so a label can never
leak into a score earlier than it would in production.
"""

import math
from bisect import bisect_right
from dataclasses import dataclass

from txguard.features.definitions import (
    CARD_WINDOWS,
    DAY,
    FEATURE_NAMES,
    HISTORY,
    LABEL_WINDOWS,
    LARGE_RATIO,
    TERMINAL_WINDOWS,
    FeatureConfig,
)
from txguard.features.state import Append, Event, StateStore

MS = 1000
NAN = math.nan
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
_CARD_WINDOWS_MS = sorted(((int(w * MS), n) for n, w in CARD_WINDOWS.items()), reverse=True)
_TERMINAL_WINDOWS_MS = [(int(w * MS), n) for n, w in TERMINAL_WINDOWS.items()]
_LABEL_WINDOWS_MS = [(int(w * MS), n) for n, w in LABEL_WINDOWS.items()]
_HISTORY_MS = int(HISTORY * MS)
_DAY_MS = int(DAY * MS)
_HOUR_MS = 3_600 * MS


@dataclass(frozen=True, slots=True)
class FeatureInput:
    """What features need of a transaction; ``card`` and ``terminal`` may be unknown."""

    transaction_id: str
    time_ms: int
    amount: float
    card: str | None = None
    terminal: str | None = None


def horizon_ms(config: FeatureConfig) -> int:
    """How far back any feature looks: older state is never read again."""
    longest_label = max(w for w, _ in _LABEL_WINDOWS_MS)
    return max(
        _HISTORY_MS, max(w for w, _ in _TERMINAL_WINDOWS_MS), delay_ms(config) + longest_label
    )


def delay_ms(config: FeatureConfig) -> int:
    """The label delay in whole milliseconds."""
    return round(config.delay_seconds * MS)


def time_features(time_ms: int, values: list[float]) -> None:
    """Hour of day, weekend and night flags, in UTC."""
    hour = (time_ms // _HOUR_MS) % 24
    weekday = (time_ms // _DAY_MS + 3) % 7  # 1970-01-01 was a Thursday
    values[_INDEX["hour"]] = float(hour)
    values[_INDEX["is_weekend"]] = 1.0 if weekday >= 5 else 0.0
    values[_INDEX["is_night"]] = 1.0 if hour <= 6 else 0.0


def card_features(tx: FeatureInput, history: list[Event], values: list[float]) -> float:
    """The card's windows (current included) and its previous 30 days; returns the ratio.

    ``history`` holds the card's previous events of the last 30 days, oldest first.
    """
    t, amount = tx.time_ms, tx.amount
    count = 0
    total = 0.0
    large_7d = seen = 0
    windows = iter(_CARD_WINDOWS_MS[::-1])
    width, name = next(windows)
    week = t - 7 * _DAY_MS
    for event in reversed(history):
        when = event[0]
        while name and when <= t - width:
            _put_window(values, name, count + 1, total + amount)
            width, name = next(windows, (0, ""))
        count += 1
        total += event[3]
        if event[4] and when > week:
            large_7d += 1
        if event[2] == tx.terminal:
            seen += 1
    while name:
        _put_window(values, name, count + 1, total + amount)
        width, name = next(windows, (0, ""))
    values[_INDEX["card_large_count_7d"]] = float(large_7d)
    values[_INDEX["card_terminal_seen_30d"]] = float(seen) if tx.terminal is not None else NAN
    values[_INDEX["card_seconds_since_prev"]] = (t - history[-1][0]) / MS if history else NAN
    return _against_history(amount, count, total, history, values)


def _put_window(values: list[float], name: str, count: int, total: float) -> None:
    values[_INDEX[f"card_tx_count_{name}"]] = float(count)
    values[_INDEX[f"card_amount_sum_{name}"]] = total
    values[_INDEX[f"card_amount_mean_{name}"]] = total / count


def _against_history(
    amount: float, count: int, total: float, history: list[Event], values: list[float]
) -> float:
    variance = NAN
    if count >= 2:
        mean = total / count
        variance = sum((e[3] - mean) * (e[3] - mean) for e in history) / count
    ratio, zscore = history_stats(amount, count, total, variance)
    values[_INDEX["card_amount_ratio_30d"]] = ratio
    values[_INDEX["card_amount_zscore_30d"]] = zscore
    return ratio


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
    """Terminal counts (current included) and fraud counts and rates over delayed windows.

    ``frauds`` are the reported frauds of the terminal, keyed by when they happened.
    """
    times = [e[0] for e in seen]
    for width, name in _TERMINAL_WINDOWS_MS:
        values[_INDEX[f"terminal_tx_count_{name}"]] = float(_count_after(times, t - width) + 1)
    end = t - delay
    usable = [e[0] for e in frauds if e[0] <= end]
    for width, name in _LABEL_WINDOWS_MS:
        start = end - width
        fraud_count = sum(1 for when in usable if when > start)
        tx_count = sum(1 for when in times if start < when <= end)
        values[_INDEX[f"terminal_fraud_count_{name}"]] = float(fraud_count)
        values[_INDEX[f"terminal_fraud_rate_{name}"]] = fraud_count / tx_count if tx_count else 0.0
    longest = max(w for w, _ in _LABEL_WINDOWS_MS)
    latest = max((when for when in usable if when > end - longest), default=None)
    values[_INDEX["terminal_days_since_fraud"]] = (
        (t - latest) / _DAY_MS if latest is not None else NAN
    )


def _count_after(times: list[int], start: int) -> int:
    return len(times) - bisect_right(times, start)


class OnlineFeatures:
    """Computes features one transaction at a time and keeps the state they need."""

    def __init__(self, store: StateStore, config: FeatureConfig | None = None) -> None:
        self.store = store
        self.config = config or FeatureConfig()
        self._delay = delay_ms(self.config)
        self._horizon = horizon_ms(self.config)
        self._fraud_horizon = self._delay + max(w for w, _ in _LABEL_WINDOWS_MS)
        self._last_evict = -(2**62)

    def compute(self, tx: FeatureInput) -> tuple[list[float], float]:
        """The feature values, in ``FEATURE_NAMES`` order, and the card ratio (for ``record``)."""
        values = [NAN] * len(FEATURE_NAMES)
        values[_INDEX["amount"]] = tx.amount
        values[_INDEX["log_amount"]] = math.log1p(tx.amount)
        time_features(tx.time_ms, values)
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
