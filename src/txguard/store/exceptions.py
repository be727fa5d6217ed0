"""Errors of the storage adapter; database driver errors are wrapped into these.

TxguardError
└── StorageError           the database refused or could not be reached
    ├── StorageUnavailable the database could not be reached (transient)
    └── MigrationError     the schema is not at the revision the code expects
"""

from txguard.domain.errors import TxguardError


class StorageError(TxguardError):
    """The database refused an operation or could not be reached."""


class StorageUnavailable(StorageError):
    """The database could not be reached or dropped the connection: worth retrying later."""


class MigrationError(StorageError):
    """The schema cannot be moved to, or is not at, the revision asked for."""


def first_line(exc: Exception) -> str:
    """The first line of a driver error: the message without the SQL and parameters echoed."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
