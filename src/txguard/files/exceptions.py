"""Errors of the transaction file reader.

    TxguardError
    └── InputError
        └── DataFileError     a file that cannot be read as a transaction file

One error per file, the first problem found: a person fixes a file one message at a time, and
a message that names the file, the column and the row is one they can act on without a
traceback.
"""

from pathlib import Path

from txguard.domain.errors import InputError

__all__ = ["DataFileError"]

_NO_VALUE = object()


class DataFileError(InputError):
    """A transaction file that is missing, unreadable, of no known layout, or holds a bad value.

    ``row`` counts data rows from 1, the header not included, so it matches what a person sees
    in a spreadsheet below the header. ``column`` is the name as written in the file.
    """

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        column: str | None = None,
        row: int | None = None,
        value: object = _NO_VALUE,
    ) -> None:
        self.path = Path(path)
        self.column = column
        self.row = row
        self.problem = problem
        super().__init__(_message(str(path), problem, column, row, value))


def _message(path: str, problem: str, column: str | None, row: int | None, value: object) -> str:
    where = [path]
    if column is not None:
        where.append(f"column {column}")
    if row is not None:
        where.append(f"row {row}")
    head = ": ".join([where[0], ", ".join(where[1:])]) if len(where) > 1 else path
    got = "" if value is _NO_VALUE else f" (got {value!r})"
    return f"{head}: {problem}{got}"
