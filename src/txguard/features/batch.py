"""Features for a whole frame at once, for training: the same numbers as the online path.

Every windowed feature becomes a search in one sorted array: rows are grouped by card (or
terminal), and each row's key is ``group * SPAN + time``, with ``SPAN`` wider than the data
plus the longest window, so a window can never reach into the previous group. Counts and sums
are then differences of positions and cumulative sums. Labels are assumed to be reported
exactly ``label_delay`` after the transaction, as ``txguard replay`` reports them.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from txguard.features.definitions import (
    CARD_WINDOWS,
    FEATURE_NAMES,
    HISTORY,
    LABEL_WINDOWS,
    RECENT_LABELS,
    TERMINAL_WINDOWS,
    FeatureConfig,
)
from txguard.features.online import LARGE_ABOVE, MS, SPREAD_CHECK, delay_ms, horizon_ms

BATCH_COLUMNS = ("transaction_id", "time_ms", "amount", "card", "terminal", "is_fraud")
"""The frame ``compute_batch`` reads; ``card``, ``terminal`` and ``is_fraud`` may be null."""

_DAY_MS = 86_400 * MS
_HOUR_MS = 3_600 * MS


def time_order(times_ms: "pd.Series[int]") -> np.ndarray:
    """The order in which transactions are processed: by time, ties in file order."""
    return np.argsort(times_ms.to_numpy(), kind="stable")


class _Groups:
    """Rows of one grouping (by card, terminal, ...) sorted so windows are searches."""

    def __init__(self, codes: np.ndarray, times: np.ndarray, reach: int) -> None:
        self.order = np.argsort(codes, kind="stable")
        self.times = times[self.order]
        start = int(times.min()) if len(times) else 0
        span = (int(times.max()) - start if len(times) else 0) + reach + 1
        self.span, self.start = span, start
        self.keys = codes[self.order].astype(np.int64) * span + (self.times - start)
        self.position = np.arange(len(self.order))
        self.codes = codes[self.order]
        is_first = np.ones(len(self.codes), dtype=bool)
        is_first[1:] = self.codes[1:] != self.codes[:-1]
        self.first = np.maximum.accumulate(np.where(is_first, self.position, 0))

    def range_sums(self, values: np.ndarray) -> "Callable[[np.ndarray, np.ndarray], np.ndarray]":
        """A function giving the sum of ``values`` over sorted rows ``[lo, hi)`` of one group.

        Cumulative sums restart at each group, so a card's sums never carry the rounding
        of every card sorted before it.
        """
        cumulative = pd.Series(values).groupby(self.codes).cumsum().to_numpy()
        padded = np.concatenate((cumulative, [0.0]))

        def between(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
            below = np.where(lo > self.first, padded[lo - 1], 0.0)
            return np.where(hi > lo, padded[hi - 1] - below, 0.0)

        return between

    def key_of(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Keys of other rows (in the same code space) for searching this grouping."""
        keys: np.ndarray = codes.astype(np.int64) * self.span + (times - self.start)
        return keys

    def since(self, width: int) -> np.ndarray:
        """For each sorted row, the first row of its group within ``width`` before it."""
        starts: np.ndarray = np.searchsorted(self.keys, self.keys - width, side="right")
        return starts

    def scatter(self, values: np.ndarray, size: int) -> np.ndarray:
        """Values computed in sorted order, put back in the frame's row order."""
        out = np.full(size, np.nan)
        out[self.order] = values
        return out


def compute_batch(frame: pd.DataFrame, config: FeatureConfig | None = None) -> pd.DataFrame:
    """Every feature of every row of ``frame`` (in processing order), as the online path would.

    Returns a float frame with the same index and the columns of ``FEATURE_NAMES``.
    """
    config = config or FeatureConfig()
    times = frame["time_ms"].to_numpy(dtype=np.int64)
    if len(times) > 1 and bool(np.any(np.diff(times) < 0)):
        raise ValueError("compute_batch needs the rows in processing order (see time_order)")
    amount = frame["amount"].to_numpy(dtype=np.float64)
    out: dict[str, np.ndarray] = {
        "amount": amount,
        "log_amount": np.log1p(amount),
        **_time_features(times),
    }
    out.update(_card_features(frame, times, amount))
    out.update(_terminal_features(frame, times, config))
    return pd.DataFrame({name: out[name] for name in FEATURE_NAMES}, index=frame.index)


def _time_features(times: np.ndarray) -> dict[str, np.ndarray]:
    hour = (times // _HOUR_MS) % 24
    weekday = (times // _DAY_MS + 3) % 7
    return {
        "hour": hour.astype(np.float64),
        "is_weekend": (weekday >= 5).astype(np.float64),
        "is_night": (hour <= 6).astype(np.float64),
    }


def _codes(column: "pd.Series[str]") -> tuple[np.ndarray, np.ndarray]:
    codes, _ = pd.factorize(column, use_na_sentinel=True)
    return codes.astype(np.int64), codes >= 0


def _card_features(
    frame: pd.DataFrame, times: np.ndarray, amount: np.ndarray
) -> dict[str, np.ndarray]:
    codes, known = _codes(frame["card"])
    rows = np.flatnonzero(known)
    n = len(times)
    groups = _Groups(codes[rows], times[rows], int(HISTORY * MS))
    a = amount[rows][groups.order]
    sums = groups.range_sums(a)
    i = groups.position
    out: dict[str, np.ndarray] = {}
    for name, width in CARD_WINDOWS.items():
        lo = groups.since(int(width * MS))
        count = (i - lo + 1).astype(np.float64)
        total = sums(lo, i + 1)
        out[f"card_tx_count_{name}"] = count
        out[f"card_amount_sum_{name}"] = total
        out[f"card_amount_mean_{name}"] = total / count
    lo30 = groups.since(int(HISTORY * MS))
    previous = i - lo30
    ratio, zscore = _history_stats(a, previous, sums(lo30, i), _variances(groups, a, lo30))
    out["card_amount_ratio_30d"] = ratio
    out["card_amount_zscore_30d"] = zscore
    gap = np.full(len(i), np.nan)
    has_previous = previous > 0
    gap[has_previous] = (groups.times[has_previous] - groups.times[i[has_previous] - 1]) / MS
    out["card_seconds_since_prev"] = gap
    large = np.concatenate(([0], np.cumsum(ratio > LARGE_ABOVE)))
    lo7 = groups.since(int(CARD_WINDOWS["7d"] * MS))
    out["card_large_count_7d"] = (large[i] - large[lo7]).astype(np.float64)
    result = {name: _scatter_rows(groups.scatter(v, len(rows)), rows, n) for name, v in out.items()}
    result["card_terminal_seen_30d"] = _terminal_seen(frame, times, codes, rows)
    return result


def _variances(groups: "_Groups", a: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Population variance of each row's previous amounts in ``[lo, i)``.

    Amounts are shifted by their group's mean first, so the sums of squares do not cancel
    catastrophically; the few windows whose spread is tiny against their mean (where even
    that loses digits) are recomputed directly, so the result agrees with the online
    two-pass variance to ~1e-12.
    """
    shift = pd.Series(a).groupby(groups.codes).transform("mean").to_numpy()
    y = a - shift
    i = groups.position
    count = np.maximum(i - lo, 1)
    mean_y = groups.range_sums(y)(lo, i) / count
    variance: np.ndarray = groups.range_sums(y * y)(lo, i) / count - mean_y * mean_y
    mean = shift + mean_y
    for row in np.flatnonzero((i - lo >= 2) & (variance < SPREAD_CHECK * mean * mean)):
        variance[row] = float(np.var(a[lo[row] : row]))
    return variance


def _history_stats(
    amount: np.ndarray, count: np.ndarray, total: np.ndarray, variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``online.history_stats``: the same rules for degenerate histories."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        ratio = np.where((count > 0) & (mean > 0), amount / mean, np.nan)
        spread = (count >= 2) & (variance > 1e-9 * np.maximum(mean * mean, 1.0))
        zscore = np.where(
            spread, (amount - mean) / np.sqrt(np.where(spread, variance, 1.0)), np.nan
        )
    return ratio, zscore


def _scatter_rows(values: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    out[rows] = values
    return out


def _terminal_seen(
    frame: pd.DataFrame, times: np.ndarray, card_codes: np.ndarray, card_rows: np.ndarray
) -> np.ndarray:
    """Previous transactions of the card on the same terminal within 30 days."""
    terminal_codes, terminal_known = _codes(frame["terminal"])
    rows = card_rows[terminal_known[card_rows]]
    pairs, _ = pd.factorize(
        pd.MultiIndex.from_arrays([card_codes[rows], terminal_codes[rows]]), use_na_sentinel=True
    )
    groups = _Groups(pairs.astype(np.int64), times[rows], int(HISTORY * MS))
    seen = (groups.position - groups.since(int(HISTORY * MS))).astype(np.float64)
    return _scatter_rows(groups.scatter(seen, len(rows)), rows, len(times))


def _terminal_features(
    frame: pd.DataFrame, times: np.ndarray, config: FeatureConfig
) -> dict[str, np.ndarray]:
    codes, known = _codes(frame["terminal"])
    rows = np.flatnonzero(known)
    n = len(times)
    delay = delay_ms(config)
    groups = _Groups(codes[rows], times[rows], horizon_ms(config))
    i = groups.position
    out: dict[str, np.ndarray] = {}
    for name, width in TERMINAL_WINDOWS.items():
        out[f"terminal_tx_count_{name}"] = (i - groups.since(int(width * MS)) + 1).astype(float)
    fraud = _fraud_keys(frame, codes, known, groups)
    end = groups.keys - delay
    seen_end = np.searchsorted(groups.keys, end, side="right")
    fraud_end = np.searchsorted(fraud, end, side="right")
    for name, width in LABEL_WINDOWS.items():
        start = end - int(width * MS)
        frauds = fraud_end - np.searchsorted(fraud, start, side="right")
        seen = seen_end - np.searchsorted(groups.keys, start, side="right")
        out[f"terminal_fraud_count_{name}"] = frauds.astype(np.float64)
        out[f"terminal_fraud_rate_{name}"] = np.where(seen > 0, frauds / np.maximum(seen, 1), 0.0)
    out.update(_fraud_history(groups, fraud, end, seen_end, fraud_end))
    return {name: _scatter_rows(groups.scatter(v, len(rows)), rows, n) for name, v in out.items()}


def _fraud_history(
    groups: _Groups, fraud: np.ndarray, end: np.ndarray, seen_end: np.ndarray, fraud_end: np.ndarray
) -> dict[str, np.ndarray]:
    """When the frauds of the longest label window began and ended, and their recent share.

    ``end`` is each row's label cut-off (its key less the delay); ``seen_end`` and
    ``fraud_end`` count the terminal's transactions and frauds up to it.
    """
    oldest = end - int(max(LABEL_WINDOWS.values()) * MS)
    first = np.searchsorted(fraud, oldest, side="right")
    usable = first < fraud_end
    padded = np.concatenate((fraud, [0])) if len(fraud) else np.zeros(1, np.int64)
    latest, since = padded[np.maximum(fraud_end - 1, 0)], padded[first]
    since_first = seen_end - np.searchsorted(groups.keys, since, side="left")
    labelled = np.searchsorted(groups.keys, oldest, side="right")
    recent = labelled < seen_end
    start = groups.keys[np.minimum(np.maximum(seen_end - RECENT_LABELS, labelled), len(end) - 1)]
    recent_frauds = fraud_end - np.searchsorted(fraud, start, side="left")
    recent_seen = seen_end - np.searchsorted(groups.keys, start, side="left")
    return {
        "terminal_days_since_fraud": np.where(usable, (groups.keys - latest) / _DAY_MS, np.nan),
        "terminal_days_since_first_fraud": np.where(
            usable, (groups.keys - since) / _DAY_MS, np.nan
        ),
        "terminal_fraud_share_since_first": np.where(
            usable, _share(fraud_end - first, since_first), np.nan
        ),
        f"terminal_fraud_share_last{RECENT_LABELS}": np.where(
            recent, _share(recent_frauds, recent_seen), np.nan
        ),
    }


def _share(frauds: np.ndarray, transactions: np.ndarray) -> np.ndarray:
    """Vectorised ``online.fraud_share``."""
    result: np.ndarray = frauds / np.maximum(np.maximum(transactions, frauds), 1)
    return result


def _fraud_keys(
    frame: pd.DataFrame, codes: np.ndarray, known: np.ndarray, groups: _Groups
) -> np.ndarray:
    """Sorted keys of the frauds, by terminal and when they happened."""
    labels = frame["is_fraud"].to_numpy(dtype=np.float64, na_value=np.nan)
    is_fraud = known & (labels == 1)
    times = frame["time_ms"].to_numpy(dtype=np.int64)
    return np.sort(groups.key_of(codes[is_fraud], times[is_fraud]))


def from_canonical(canonical: pd.DataFrame) -> pd.DataFrame:
    """The loader's canonical frame as the feature frame, in processing order.

    Times become integer milliseconds (finer precision is dropped on both paths alike).
    The index keeps the canonical frame's labels, so results can be joined back.
    """
    occurred = canonical["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    frame = pd.DataFrame(
        {
            "transaction_id": canonical["transaction_id"].astype(str),
            "time_ms": occurred.astype("datetime64[ms]").astype(np.int64),
            "amount": canonical["amount"].astype(np.float64),
            "card": canonical["card_id"].astype(object),
            "terminal": canonical["terminal_id"].astype(object),
            "is_fraud": canonical["is_fraud"].astype("Float64"),
        },
        index=canonical.index,
    )
    return frame.iloc[time_order(frame["time_ms"])]
