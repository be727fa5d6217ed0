"""Map one raw chunk to the canonical frame, noting the first problem of each check.

The checks are vectorised over the whole chunk; the earliest problem found by any of them is
raised, naming the file, column and row.
"""

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_string_dtype

from txguard.files._columns import (
    Bools,
    Floats,
    as_floats,
    id_values,
    is_missing,
    plain,
    seconds_range,
    utc_timestamp,
)
from txguard.files._duplicates import SeenIds
from txguard.files._readers import OpenedFile
from txguard.files.exceptions import DataFileError
from txguard.files.layouts import TimeKind

# pandas reads these literally whatever the format string says; in a data file they are a mistake.
_RELATIVE_DATES = ["now", "today"]
_MAX_SCENARIO = 127


class Chunk:
    """Turns one raw chunk into the canonical frame, or raises at its earliest bad row.

    Every check is vectorised and only notes where its first problem is; the earliest of those
    is raised, so the message is about the first bad row whichever check found it.
    """

    def __init__(
        self, data_file: OpenedFile, raw: pd.DataFrame, first_row: int, seen: SeenIds
    ) -> None:
        self.file = data_file
        self.raw = raw
        self.first_row = first_row
        self.index = pd.RangeIndex(first_row - 1, first_row - 1 + len(raw))
        self.seen = seen
        self.id_hashes = np.empty(0, dtype=np.uint64)
        self.problems: list[tuple[int, str, str]] = []

    def canonical(self) -> pd.DataFrame:
        layout = self.file.layout
        columns: dict[str, pd.Series] = {
            "transaction_id": self._transaction_ids(),
            "occurred_at": self._occurred_at(),
            "card_id": self._optional_ids(layout.card_id),
            "terminal_id": self._optional_ids(layout.terminal_id),
            "amount": self._amounts(layout.amount),
            "is_fraud": self._labels(layout.is_fraud),
            "fraud_scenario": self._scenarios(layout.fraud_scenario),
        }
        columns.update({name: self._feature(name) for name in layout.features})
        self._raise_first_problem()
        self.seen.add(self.id_hashes)
        return pd.DataFrame(columns, index=self.index)

    def note(self, column: str, mask: Bools | pd.Series, problem: str) -> None:
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        if hits.size:
            self.problems.append((int(hits[0]), column, problem))

    def _raise_first_problem(self) -> None:
        if not self.problems:
            return
        position, column, problem = min(self.problems, key=lambda p: p[0])
        value = self.raw[column].iloc[position]
        row = self.first_row + position
        if pd.isna(value) or (isinstance(value, str) and not value):
            raise DataFileError(self.file.path, problem, column=column, row=row)
        raise DataFileError(self.file.path, problem, column=column, row=row, value=plain(value))

    def _series(self, values: object, dtype: str | type | None = None) -> pd.Series:
        return pd.Series(values, index=self.index, dtype=dtype, copy=False)

    def _absent(self, dtype: str | type) -> pd.Series:
        fill = pd.NA if dtype == "Int8" else None
        return self._series(np.full(len(self.index), fill, dtype=object), dtype)

    # ids

    def _transaction_ids(self) -> pd.Series:
        column = self.file.layout.transaction_id
        if column is None:
            return self._series(self.index.astype(str).to_numpy(dtype=object), object)
        ids, missing = id_values(self.raw[column])
        self.note(column, missing, "missing transaction id")
        self.id_hashes = pd.util.hash_array(ids, categorize=False)  # ids are mostly unique
        duplicate = self.seen.first_duplicate(ids, self.id_hashes, missing, self.first_row)
        if duplicate is not None:
            position, first_seen = duplicate
            self.problems.append(
                (position, column, f"duplicate transaction id, first seen at row {first_seen}")
            )
        return self._series(ids, object)

    def _optional_ids(self, column: str | None) -> pd.Series:
        if column is None or column not in self.raw:
            return self._absent(object)
        return self._series(id_values(self.raw[column])[0], object)

    # time

    def _occurred_at(self) -> pd.Series:
        column = self.file.layout.time
        if self.file.layout.time_kind is TimeKind.SECONDS:
            occurred = self._from_seconds(column)
        else:
            occurred = self._datetimes(column)
        return self._series(occurred.dt.as_unit("ns").array)

    def _datetimes(self, column: str) -> pd.Series:
        raw = self.raw[column]
        missing = is_missing(raw)
        self.note(column, missing, "missing date-time")
        if is_datetime64_any_dtype(raw.dtype):
            parsed = raw.dt.tz_convert("UTC") if raw.dt.tz else raw.dt.tz_localize("UTC")
        else:
            text = raw if is_string_dtype(raw.dtype) else raw.astype("string")
            parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
            not_iso = (parsed.isna() & ~missing) | raw.isin(_RELATIVE_DATES)
            self.note(column, not_iso, "not an ISO 8601 date-time such as 2018-04-01 00:00:31")
        return self._within_nanosecond_range(column, parsed)

    def _from_seconds(self, column: str) -> pd.Series:
        seconds = self._numbers(column, "time", required=True)
        origin = utc_timestamp(self.file.time_origin)
        low, high = seconds_range(origin)
        outside = (seconds < low) | (seconds > high)
        self.note(column, outside, "time is too far from the time origin for a date")
        usable = np.where(outside | ~np.isfinite(seconds), np.nan, seconds)
        return pd.Series(origin + pd.to_timedelta(usable, unit="s"))

    def _within_nanosecond_range(self, column: str, parsed: pd.Series) -> pd.Series:
        low, high = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
        outside = (parsed < low) | (parsed > high)
        self.note(column, outside, "date-time is outside the years 1677 to 2262")
        return parsed.mask(outside)

    # numbers

    def _numbers(self, column: str, what: str, *, required: bool) -> Floats:
        values, missing = as_floats(self.raw[column])
        if required:
            self.note(column, missing, f"{what} is missing")
        self.note(column, np.isnan(values) & ~missing, f"{what} is not a number")
        self.note(column, np.isinf(values), f"{what} is not finite")
        return values

    def _amounts(self, column: str) -> pd.Series:
        amounts = self._numbers(column, "amount", required=True)
        self.note(column, amounts < 0, "amount is negative")
        return self._series(amounts, np.float64)

    def _feature(self, column: str) -> pd.Series:
        return self._series(self._numbers(column, column, required=False), np.float64)

    def _labels(self, column: str | None) -> pd.Series:
        if column is None or column not in self.raw:
            return self._absent("Int8")
        values, missing = as_floats(self.raw[column])
        bad = ~missing & ~np.isin(values, (0.0, 1.0))
        self.note(column, bad, "label must be 0, 1 or empty (unknown)")
        return self._small_ints(values, bad)

    def _scenarios(self, column: str | None) -> pd.Series:
        if column is None or column not in self.raw:
            return self._absent("Int8")
        values, missing = as_floats(self.raw[column])
        whole = (values == np.floor(values)) & (values >= 0) & (values <= _MAX_SCENARIO)
        bad = ~missing & ~whole
        self.note(column, bad, f"fraud scenario must be a whole number from 0 to {_MAX_SCENARIO}")
        return self._small_ints(values, bad)

    def _small_ints(self, values: Floats, bad: Bools) -> pd.Series:
        unknown = bad | np.isnan(values)
        small = np.where(unknown, 0, values).astype(np.int8)
        return self._series(pd.arrays.IntegerArray(small, unknown))
