"""Read a transaction file, CSV or Parquet, in any known layout, as validated canonical chunks.

Importing, training, replay and backtests all read files through here, so they see one frame
shape whatever the format or layout, and a bad file fails the same way everywhere: at its
first problem, with the file, column and row named. Memory is bounded by the chunk size; the
only thing kept across chunks is one 8-byte hash per transaction id, for the duplicate check.

This is the public entry point; the work is done by private modules beside it: ``_readers``
(the CSV and Parquet formats), ``_convert`` (a raw chunk to the canonical frame, with its
checks), ``_duplicates`` (the duplicate id check) and ``_columns`` (shared conversions).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from txguard.files._convert import Chunk
from txguard.files._duplicates import SeenIds
from txguard.files._readers import SUFFIXES, check_path, raw_chunks, read_header
from txguard.files.layouts import ANONYMISED_TIME_ORIGIN, Layout, detect_layout

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

DEFAULT_CHUNK_ROWS = 200_000


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
        seen = SeenIds(self, rows)
        first_row = 1
        for raw in raw_chunks(self, self.layout.columns_to_read(self.header), rows):
            if len(raw):
                yield Chunk(self, raw, first_row, seen).canonical()
                first_row += len(raw)

    def empty_frame(self) -> pd.DataFrame:
        """A canonical frame with no rows, with the same columns and dtypes as a chunk."""
        raw = pd.DataFrame({c: pd.Series([], dtype=object) for c in self.header})
        return Chunk(self, raw, 1, SeenIds(self, 1)).canonical()


def open_data_file(path: Path | str, *, time_origin: datetime = ANONYMISED_TIME_ORIGIN) -> DataFile:
    """Check that ``path`` is a CSV or Parquet file of a known layout; reads only the header.

    ``time_origin`` is the instant the anonymised layout's ``Time`` counts seconds from (naive
    means UTC); the simulator layout carries its own dates and ignores it.
    """
    path = Path(path)
    check_path(path)
    header = read_header(path)
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
