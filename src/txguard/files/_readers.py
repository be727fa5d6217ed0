"""Open a CSV or Parquet file and read its own columns in chunks, as the format gives them.

Everything that knows the two formats apart lives here: the accepted suffixes, reading the
header, and turning a format's failure into a ``DataFileError`` that names the file. What the
values mean is left to the conversion that follows.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from txguard.files.exceptions import DataFileError
from txguard.files.layouts import Layout, TimeKind

SUFFIXES = (".csv", ".parquet")


class OpenedFile(Protocol):
    """What reading and checking need of an opened file: a ``DataFile`` is one."""

    @property
    def path(self) -> Path: ...

    @property
    def layout(self) -> Layout: ...

    @property
    def time_origin(self) -> datetime: ...


# --- opening -------------------------------------------------------------------------------


def check_path(path: Path) -> None:
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


def read_header(path: Path) -> tuple[str, ...]:
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


def raw_chunks(
    data_file: OpenedFile, columns: tuple[str, ...], rows: int
) -> Iterator[pd.DataFrame]:
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
