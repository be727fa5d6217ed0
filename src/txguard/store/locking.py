"""Taking SQLite's single writer lock at the start of a transaction.

SQLite ignores ``FOR UPDATE`` and has no advisory locks, and pysqlite reads outside any
transaction until the first write. A write that changes nothing takes the database's writer
lock up front, so what the transaction reads next cannot be changed by another writer
before it commits.
"""

from sqlalchemy import false, update
from sqlalchemy.orm import Session

from txguard.store.orm import CaseEventRow


def take_sqlite_write_lock(session: Session) -> None:
    """Hold SQLite's writer lock until ``session``'s transaction ends; nothing elsewhere."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(CaseEventRow).where(false()).values(note=None))
