"""Write a transaction frame as Parquet or CSV, chosen by the file's extension.

The same frame always gives the same bytes, so a simulated data set can be checked with
``cmp`` and its checksum published. A file is written next to its destination and renamed
into place, so a reader never sees half a file.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from txguard.domain.errors import InputError

CSV_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, date_format=CSV_DATETIME_FORMAT, lineterminator="\n")


_WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    ".parquet": _write_parquet,
    ".csv": _write_csv,
}


def check_extension(path: Path) -> None:
    """Refuse a path whose extension names no format, before any work is done for it."""
    suffix = path.suffix.lower()
    if suffix not in _WRITERS:
        shown = f"unknown extension '{path.suffix}'" if path.suffix else "no extension"
        raise InputError(f"cannot write {path}: {shown}, expected .parquet or .csv")


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` without its index to ``path`` (``.parquet`` or ``.csv``), creating its directory."""
    check_extension(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        _WRITERS[path.suffix.lower()](frame, temporary)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
