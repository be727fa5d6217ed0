"""The API process's background checkpoints copy SQLite's log back while commits go on."""

import time
from pathlib import Path

from sqlalchemy import text

from txguard.store.checkpoints import BACKSTOP_PAGES, WalCheckpointer
from txguard.store.engine import create_db_engine
from txguard.store.migrate import upgrade


def test_commits_leave_the_log_to_the_background_checkpoints(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'txguard.db'}")
    upgrade(engine)
    checkpointer = WalCheckpointer(engine, interval_s=0.05)
    try:
        with engine.begin() as connection:
            assert connection.scalar(text("PRAGMA wal_autocheckpoint")) == BACKSTOP_PAGES
            for i in range(300):
                connection.execute(text("INSERT INTO request_log (received_at, route, "
                    "status_code, latency_ms) VALUES (CURRENT_TIMESTAMP, :r, 200, 1.0)"),
                    {"r": f"/x/{i}"})  # fmt: skip
        checkpointer.start()
        deadline = time.monotonic() + 10
        while checkpointer.last is None or checkpointer.last[1] != checkpointer.last[2]:
            assert time.monotonic() < deadline, f"not checkpointed: {checkpointer.last}"
            time.sleep(0.05)
        busy, pages, copied = checkpointer.last
        assert busy == 0 and pages > 0 and copied == pages
        assert checkpointer.failures == 0
    finally:
        checkpointer.stop()
        engine.dispose()


def test_postgresql_is_left_alone(tmp_path: Path) -> None:
    engine = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    checkpointer = WalCheckpointer(engine)

    checkpointer.start()
    checkpointer.stop()

    assert checkpointer.checkpoints == 0
