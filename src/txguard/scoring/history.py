"""A transaction file as the history that training, replay and backtests walk through.

Whatever the file's layout, the result has the feature frame's columns (in processing
order) plus the layout's pass-through numeric inputs, and it says what the file lacks, so
each command can tell the user what it could not compute instead of failing or inventing.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from txguard.domain.errors import InputError
from txguard.features.batch import from_canonical
from txguard.files.loader import CANONICAL_COLUMNS, open_data_file

DAY_MS = 86_400_000


@dataclass
class History:
    """Every transaction of a file, in processing order, and what the file could not give."""

    frame: pd.DataFrame
    extras: tuple[str, ...]
    layout: str
    missing: list[str] = field(default_factory=list)

    @property
    def has_labels(self) -> bool:
        """Whether any transaction has a known label."""
        return bool(self.frame["is_fraud"].notna().any())

    @property
    def has_cards(self) -> bool:
        """Whether transactions carry card ids (needed for card features and CP@100)."""
        return bool(self.frame["card"].notna().any())

    def between(self, start: date, end: date) -> np.ndarray:
        """Which rows happened on the inclusive calendar days ``start``..``end`` (UTC)."""
        lo, hi = day_bounds_ms(start, end)
        times = self.frame["time_ms"].to_numpy()
        result: np.ndarray = (times >= lo) & (times < hi)
        return result

    def require_rows(self, start: date, end: date, what: str) -> np.ndarray:
        """``between``, or a clear error naming the empty period."""
        rows = self.between(start, end)
        if not rows.any():
            first, last = self.span()
            raise InputError(
                f"{what} {start}..{end} holds no transactions; the file covers {first}..{last}"
            )
        return rows

    def span(self) -> tuple[date, date]:
        """The first and last calendar days of the file."""
        times = self.frame["time_ms"]
        return _day(int(times.min())), _day(int(times.max()))


def _day(time_ms: int) -> date:
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).date()


def day_bounds_ms(start: date, end: date) -> tuple[int, int]:
    """``[start 00:00, end + 1 day 00:00)`` in epoch milliseconds, UTC."""
    if end < start:
        raise InputError(f"the end date {end} is before the start date {start}")
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    after = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    return int(first.timestamp() * 1000), int(after.timestamp() * 1000)


def load_history(path: Path) -> History:
    """Read and validate the whole file (the loader names the first bad row)."""
    data = open_data_file(path)
    chunks = list(data.chunks())
    if not chunks:
        raise InputError(f"{path}: the file has no transactions")
    canonical = pd.concat(chunks)
    extras = tuple(c for c in canonical.columns if c not in CANONICAL_COLUMNS)
    frame = from_canonical(canonical)
    for name in extras:
        frame[name] = canonical.loc[frame.index, name].astype(np.float64)
    frame = frame.reset_index(drop=True)
    history = History(frame, extras, data.layout.name)
    history.missing = _missing(history)
    return history


def _missing(history: History) -> list[str]:
    notes = []
    if not history.has_cards:
        notes.append("no card ids: card features and CP@100 cannot be computed")
    if not history.frame["terminal"].notna().any():
        notes.append("no terminal ids: terminal features cannot be computed")
    if not history.has_labels:
        notes.append("no labels: no supervised model, AUC, AP or CP@100; anomaly scores only")
    return notes
