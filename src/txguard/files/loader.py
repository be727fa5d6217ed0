"""Read a transaction file, CSV or Parquet, in any known layout, as validated canonical chunks.

Importing, training, replay and backtests all read files through here, so they see one frame
shape whatever the format or layout, and a bad file fails the same way everywhere: at its
first problem, with the file, column and row named. Memory is bounded by the chunk size; the
only thing kept across chunks is one 8-byte hash per transaction id, for the duplicate check.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import (
    is_datetime64_any_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_numeric_dtype,
    is_string_dtype,
)

from txguard.files.exceptions import DataFileError
from txguard.files.layouts import ANONYMISED_TIME_ORIGIN, Layout, TimeKind, detect_layout

__all__ = [
    "ANONYMISED_TIME_ORIGIN",
    "CANONICAL_COLUMNS",
    "SUFFIXES",
    "DataFile",
    "open_data_file",
    "read_transactions",
]

CANONICAL_COLUMNS = (
    "transaction_id",
    "occurred_at",
    "card_id",
    "terminal_id",
    "amount",
    "is_fraud",
    "fraud_scenario",
)
"""The columns every chunk starts with, in this order; the layout's feature columns follow."""

SUFFIXES = (".csv", ".parquet")
DEFAULT_CHUNK_ROWS = 200_000

_Bools = npt.NDArray[np.bool_]
_Floats = npt.NDArray[np.float64]
_Objects = npt.NDArray[np.object_]

# pandas reads these literally whatever the format string says; in a data file they are a mistake.
_RELATIVE_DATES = ["now", "today"]
_MAX_EXACT_FLOAT_ID = 2.0**53
_MAX_SCENARIO = 127


@dataclass(frozen=True)
class DataFile:
    """A transaction file whose header has been read and whose layout is known.

    Opening reads only the header, so a wrong file fails before any work starts; the rows are
    read and validated by ``chunks``, each time it is called.
    """

    path: Path
    layout: Layout
    header: tuple[str, ...]
    time_origin: datetime = ANONYMISED_TIME_ORIGIN

    @property
    def has_labels(self) -> bool:
        """True when the file has a label column; its values may still be empty (unknown)."""
        return self.layout.is_fraud is not None and self.layout.is_fraud in self.header

    def chunks(self, rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """Canonical chunks of at most ``rows`` rows, in file order.

        Each chunk is indexed by the 0-based position of its rows in the file, so row ``i`` of
        the index is data row ``i + 1`` in messages. Raises ``DataFileError`` at the first
        problem, before yielding the chunk that holds it.
        """
        if rows < 1:
            raise ValueError(f"rows must be at least 1, got {rows}")
        seen = _SeenIds(self, rows)
        first_row = 1
        for raw in _raw_chunks(self, self.layout.columns_to_read(self.header), rows):
            if len(raw):
                yield _Chunk(self, raw, first_row, seen).canonical()
                first_row += len(raw)

    def empty_frame(self) -> pd.DataFrame:
        """A canonical frame with no rows, with the same columns and dtypes as a chunk."""
        raw = pd.DataFrame({c: pd.Series([], dtype=object) for c in self.header})
        return _Chunk(self, raw, 1, _SeenIds(self, 1)).canonical()


def open_data_file(path: Path | str, *, time_origin: datetime = ANONYMISED_TIME_ORIGIN) -> DataFile:
    """Check that ``path`` is a CSV or Parquet file of a known layout; reads only the header.

    ``time_origin`` is the instant the anonymised layout's ``Time`` counts seconds from (naive
    means UTC); the simulator layout carries its own dates and ignores it.
    """
    path = Path(path)
    _check_path(path)
    header = _header(path)
    return DataFile(path, detect_layout(header, path=path), header, time_origin)


def read_transactions(
    path: Path | str,
    *,
    time_origin: datetime = ANONYMISED_TIME_ORIGIN,
    rows: int = DEFAULT_CHUNK_ROWS,
) -> pd.DataFrame:
    """The whole file as one canonical frame with a fresh 0-based index."""
    data_file = open_data_file(path, time_origin=time_origin)
    frames = list(data_file.chunks(rows))
    if not frames:
        return data_file.empty_frame()
    return pd.concat(frames, ignore_index=True)


# --- opening -------------------------------------------------------------------------------


def _check_path(path: Path) -> None:
    if not path.exists():
        raise DataFileError(path, "the file does not exist")
    if not path.is_file():
        raise DataFileError(path, "not a file")
    if path.suffix.lower() not in SUFFIXES:
        shown = path.suffix or "no extension"
        accepted = " or ".join(SUFFIXES)
        raise DataFileError(path, f"unsupported file type {shown!r}: expected {accepted}")
    if path.stat().st_size == 0:
        raise DataFileError(path, "the file is empty (no header)")


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def _header(path: Path) -> tuple[str, ...]:
    try:
        if _is_csv(path):
            return tuple(str(c) for c in pd.read_csv(path, nrows=0).columns)
        return tuple(pq.read_schema(path).names)
    except pd.errors.EmptyDataError as exc:
        raise DataFileError(path, "the file is empty (no header)") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(path, "not a CSV file: it is not UTF-8 text") from exc
    except (pd.errors.ParserError, pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: Exception) -> DataFileError:
    kind = "CSV" if _is_csv(path) else "Parquet"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataFileError(path, f"not a readable {kind} file ({reason})")


# --- raw chunks: the file's own columns, as the format gives them ----------------------------


def _raw_chunks(data_file: DataFile, columns: tuple[str, ...], rows: int) -> Iterator[pd.DataFrame]:
    path = data_file.path
    try:
        if _is_csv(path):
            yield from _csv_chunks(path, columns, _text_columns(data_file.layout), rows)
        else:
            yield from _parquet_chunks(path, columns, rows)
    except UnicodeDecodeError as exc:
        raise DataFileError(path, "not a CSV file: it is not UTF-8 text") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from exc


def _text_columns(layout: Layout) -> frozenset[str]:
    """Columns a CSV must not guess a type for: ids keep leading zeros, dates stay text."""
    ids = (layout.transaction_id, layout.card_id, layout.terminal_id)
    dates = (layout.time,) if layout.time_kind is TimeKind.DATETIME else ()
    return frozenset(c for c in (*ids, *dates) if c is not None)


def _csv_chunks(
    path: Path, columns: tuple[str, ...], text: frozenset[str], rows: int
) -> Iterator[pd.DataFrame]:
    # No usecols: with it pandas silently drops the extra fields of a row that has too many,
    # which is how a shifted row (an unquoted comma) shows. Only empty cells are missing:
    # "NA" is a fine terminal id and "NaN" a bad amount to report. Text columns are read as
    # object: the Python strings the canonical frame needs, without a detour through Arrow.
    with pd.read_csv(
        path,
        dtype={c: object for c in columns if c in text},
        keep_default_na=False,
        na_values=[""],
        chunksize=rows,
    ) as reader:
        for frame in reader:
            yield frame[list(columns)]


def _parquet_chunks(path: Path, columns: tuple[str, ...], rows: int) -> Iterator[pd.DataFrame]:
    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=rows, columns=list(columns)):
            frame: pd.DataFrame = _decode_dictionaries(batch).to_pandas(ignore_metadata=True)
            yield frame


def _decode_dictionaries(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Plain arrays for dictionary columns, which pandas would otherwise make categorical."""
    if not any(pa.types.is_dictionary(field.type) for field in batch.schema):
        return batch
    arrays = [
        column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


# --- one chunk: convert every column, note the first problem of each check -------------------


class _Chunk:
    """Turns one raw chunk into the canonical frame, or raises at its earliest bad row.

    Every check is vectorised and only notes where its first problem is; the earliest of those
    is raised, so the message is about the first bad row whichever check found it.
    """

    def __init__(
        self, data_file: DataFile, raw: pd.DataFrame, first_row: int, seen: "_SeenIds"
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

    def note(self, column: str, mask: _Bools | pd.Series, problem: str) -> None:
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
        raise DataFileError(self.file.path, problem, column=column, row=row, value=_plain(value))

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
        ids, missing = _id_values(self.raw[column])
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
        return self._series(_id_values(self.raw[column])[0], object)

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
        missing = _missing(raw)
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
        origin = _utc_timestamp(self.file.time_origin)
        low, high = _seconds_range(origin)
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

    def _numbers(self, column: str, what: str, *, required: bool) -> _Floats:
        values, missing = _as_floats(self.raw[column])
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
        values, missing = _as_floats(self.raw[column])
        bad = ~missing & ~np.isin(values, (0.0, 1.0))
        self.note(column, bad, "label must be 0, 1 or empty (unknown)")
        return self._small_ints(values, bad)

    def _scenarios(self, column: str | None) -> pd.Series:
        if column is None or column not in self.raw:
            return self._absent("Int8")
        values, missing = _as_floats(self.raw[column])
        whole = (values == np.floor(values)) & (values >= 0) & (values <= _MAX_SCENARIO)
        bad = ~missing & ~whole
        self.note(column, bad, f"fraud scenario must be a whole number from 0 to {_MAX_SCENARIO}")
        return self._small_ints(values, bad)

    def _small_ints(self, values: _Floats, bad: _Bools) -> pd.Series:
        unknown = bad | np.isnan(values)
        small = np.where(unknown, 0, values).astype(np.int8)
        return self._series(pd.arrays.IntegerArray(small, unknown))


class _SeenIds:
    """The transaction ids of earlier chunks, as a sorted array of 64-bit hashes.

    Eight bytes an id instead of a hundred or so for a set of strings. A hash match is only a
    suspicion: it is confirmed, and the first occurrence found, by reading the ids of the
    earlier rows again, which happens only when the file is about to be rejected.
    """

    def __init__(self, data_file: DataFile, rows: int) -> None:
        self.file = data_file
        self.rows = rows
        self.hashes = np.empty(0, dtype=np.uint64)

    def add(self, hashes: npt.NDArray[np.uint64]) -> None:
        if hashes.size:
            merged = np.concatenate((self.hashes, np.sort(hashes)))
            self.hashes = np.sort(merged, kind="stable")  # timsort: two sorted runs merge in O(n)

    def first_duplicate(
        self, ids: _Objects, hashes: npt.NDArray[np.uint64], missing: _Bools, first_row: int
    ) -> tuple[int, int] | None:
        """(position in the chunk, row of the first occurrence) of the first repeated id."""
        found: list[tuple[int, int]] = []
        repeated = np.zeros(len(ids), dtype=bool)
        if pd.Series(hashes).duplicated().any():  # a fast screen; strings only when it fires
            repeated = pd.Series(ids, dtype=object).duplicated().to_numpy() & ~missing
        if repeated.any():
            position = int(np.flatnonzero(repeated)[0])
            earlier = int(np.flatnonzero(ids[:position] == ids[position])[0])
            found.append((position, first_row + earlier))
        suspects = self._suspects(hashes) & ~missing
        if suspects.any():
            found.extend(self._confirmed(ids, suspects, first_row))
        return min(found, default=None)

    def _suspects(self, hashes: npt.NDArray[np.uint64]) -> _Bools:
        if not self.hashes.size:
            return np.zeros(len(hashes), dtype=bool)
        needles = np.sort(hashes)  # in order, each search starts where the last one ended
        positions = np.minimum(np.searchsorted(self.hashes, needles), self.hashes.size - 1)
        hits = needles[self.hashes[positions] == needles]
        if not hits.size:
            return np.zeros(len(hashes), dtype=bool)
        return np.isin(hashes, hits)

    def _confirmed(
        self, ids: _Objects, suspects: _Bools, first_row: int
    ) -> Iterator[tuple[int, int]]:
        first_rows = self._first_rows({str(i) for i in ids[suspects]}, before_row=first_row)
        for position in np.flatnonzero(suspects):
            if ids[position] in first_rows:
                yield int(position), first_rows[ids[position]]
                return

    def _first_rows(self, wanted: set[str], *, before_row: int) -> dict[str, int]:
        column = self.file.layout.transaction_id
        first_rows: dict[str, int] = {}
        if column is None:
            return first_rows
        row = 1
        for raw in _raw_chunks(self.file, (column,), self.rows):
            if row >= before_row:
                break
            ids = _id_values(raw[column])[0][: before_row - row]
            for position in np.flatnonzero(pd.Series(ids, dtype=object).isin(list(wanted))):
                first_rows.setdefault(ids[position], row + int(position))
            row += len(raw)
        return first_rows


# --- column conversions shared by the checks ---------------------------------------------------


def _id_values(raw: pd.Series) -> tuple[_Objects, _Bools]:
    """Ids as Python strings or None, and where they are missing.

    Parquet integers become the digits a CSV would hold, so both formats give equal ids.
    """
    if is_integer_dtype(raw.dtype):  # never missing: the quick way to digits
        return raw.astype(str).to_numpy(dtype=object), np.zeros(len(raw), dtype=bool)
    if is_float_dtype(raw.dtype) and _all_whole(raw.to_numpy(dtype=np.float64)):
        raw = raw.astype("Int64")
    if not is_string_dtype(raw.dtype):
        raw = raw.astype("string")
    missing = _missing(raw)
    values: _Objects = raw.to_numpy(dtype=object, copy=True)
    values[missing] = None
    return values, missing


def _all_whole(values: _Floats) -> bool:
    known = values[~np.isnan(values)]
    return bool(np.all((known == np.floor(known)) & (np.abs(known) < _MAX_EXACT_FLOAT_ID)))


def _as_floats(raw: pd.Series) -> tuple[_Floats, _Bools]:
    """The values as float64 with NaN where not a number, and where the file had no value."""
    if is_numeric_dtype(raw.dtype):
        values: _Floats = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values)
    numbers = pd.to_numeric(raw, errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), _missing(raw)


def _missing(raw: pd.Series) -> _Bools:
    """Null, or an empty string: Parquet keeps "" where a CSV cell is simply empty."""
    missing = raw.isna().to_numpy()
    if is_string_dtype(raw.dtype):
        missing = missing | (raw == "").to_numpy(dtype=bool, na_value=False)
    return missing


def _utc_timestamp(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _seconds_range(origin: pd.Timestamp) -> tuple[float, float]:
    """Offsets from ``origin`` that both a nanosecond timedelta and timestamp can hold."""
    low = max(pd.Timestamp.min.value - origin.value, pd.Timedelta.min.value)
    high = min(pd.Timestamp.max.value - origin.value, pd.Timedelta.max.value)
    return low / 1e9 + 1, high / 1e9 - 1


def _plain(value: object) -> object:
    """Python scalars for messages: ``-1.0`` reads better than ``np.float64(-1.0)``."""
    return value.item() if isinstance(value, np.generic) else value
