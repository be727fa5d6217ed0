"""SQLite's write-ahead log copied back into the database by a thread of its own.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages. A
scored transaction dirties about four pages (its row and the leaf pages of its indexes,
whose keys are random), so on the scoring path one commit in a few stalled for 100-300 ms
copying the log back, and a batch of 1,000 spent more time checkpointing than inserting.
The API process instead runs a passive checkpoint every ``interval_s`` on its own
connection: the sqlite3 module lets go of the GIL while it runs, so the deciding thread
goes on, and a commit checkpoints only past ``BACKSTOP_PAGES`` (set on every connection,
see ``store/engine.py``) should this thread fall behind or stop.
"""

import logging
import threading
from typing import Any

from sqlalchemy import Engine

logger = logging.getLogger(__name__)

BACKSTOP_PAGES = 50_000
"""A commit checkpoints the log itself once it holds this many pages (about 200 MB)."""


class WalCheckpointer:
    """A passive checkpoint every ``interval_s`` while started; nothing on other backends."""

    def __init__(self, engine: Engine, interval_s: float = 0.5) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.checkpoints = 0
        self.failures = 0
        self.last: tuple[int, int, int] | None = None
        """The last checkpoint's (busy, pages in the log, pages copied back)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checkpointing, when the engine is SQLite."""
        if self.engine.dialect.name != "sqlite" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the checkpoint in progress, if any."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        connection = self.engine.raw_connection()
        try:
            while not self._stop.wait(self.interval_s):
                self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: Any) -> None:
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            busy, pages, copied = cursor.fetchone()
            cursor.close()
        except Exception as exc:  # a failed checkpoint is retried; commits still backstop
            self.failures += 1
            logger.warning("WAL checkpoint failed: %s", exc)
            return
        self.checkpoints += 1
        self.last = (int(busy), int(pages), int(copied))
