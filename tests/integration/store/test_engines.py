"""Engine settings take effect on the real servers, not only in our code."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from txguard.runtime import build_engine
from txguard.settings import Settings
from txguard.store.engine import EngineOptions, create_db_engine


@pytest.mark.postgres
def test_postgres_statement_timeout_is_enforced(
    postgres_database_factory: Callable[[], str],
) -> None:
    engine = create_db_engine(postgres_database_factory(), EngineOptions(statement_timeout_ms=200))
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "200ms"
        with pytest.raises(OperationalError, match="statement timeout"):
            connection.execute(text("SELECT pg_sleep(2)"))
    engine.dispose()


@pytest.mark.postgres
def test_postgres_pool_follows_the_settings(
    postgres_database_factory: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    isolated_env: Path,
) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", postgres_database_factory())
    monkeypatch.setenv("TXGUARD_DB_POOL_SIZE", "3")
    monkeypatch.setenv("TXGUARD_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("TXGUARD_DB_POOL_TIMEOUT_S", "0.2")
    engine = build_engine(Settings())
    held = [engine.connect() for _ in range(3)]
    try:
        with pytest.raises(PoolTimeoutError, match="QueuePool limit of size 3 overflow 0"):
            engine.connect()
    finally:
        for connection in held:
            connection.close()
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'nested' / 'txguard.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "nested" / "txguard.db").is_file()
    engine.dispose()
