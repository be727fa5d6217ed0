"""The duplicate transaction id check across chunks, and the search for the first occurrence.

The only state kept across chunks is one 8-byte hash per transaction id, so memory stays
bounded by the chunk size however long the file is.
"""

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd

from txguard.files._columns import Bools, Objects, id_values
from txguard.files._readers import OpenedFile, raw_chunks


class SeenIds:
    """The transaction ids of earlier chunks, as a sorted array of 64-bit hashes.

    Eight bytes an id instead of a hundred or so for a set of strings. A hash match is only a
    suspicion: it is confirmed, and the first occurrence found, by reading the ids of the
    earlier rows again, which happens only when the file is about to be rejected.
    """

    def __init__(self, data_file: OpenedFile, rows: int) -> None:
        self.file = data_file
        self.rows = rows
        self.hashes = np.empty(0, dtype=np.uint64)

    def add(self, hashes: npt.NDArray[np.uint64]) -> None:
        if hashes.size:
            merged = np.concatenate((self.hashes, np.sort(hashes)))
            self.hashes = np.sort(merged, kind="stable")  # timsort: two sorted runs merge in O(n)

    def first_duplicate(
        self, ids: Objects, hashes: npt.NDArray[np.uint64], missing: Bools, first_row: int
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

    def _suspects(self, hashes: npt.NDArray[np.uint64]) -> Bools:
        if not self.hashes.size:
            return np.zeros(len(hashes), dtype=bool)
        needles = np.sort(hashes)  # in order, each search starts where the last one ended
        positions = np.minimum(np.searchsorted(self.hashes, needles), self.hashes.size - 1)
        hits = needles[self.hashes[positions] == needles]
        if not hits.size:
            return np.zeros(len(hashes), dtype=bool)
        return np.isin(hashes, hits)

    def _confirmed(
        self, ids: Objects, suspects: Bools, first_row: int
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
        for raw in raw_chunks(self.file, (column,), self.rows):
            if row >= before_row:
                break
            ids = id_values(raw[column])[0][: before_row - row]
            for position in np.flatnonzero(pd.Series(ids, dtype=object).isin(list(wanted))):
                first_rows.setdefault(ids[position], row + int(position))
            row += len(raw)
        return first_rows
