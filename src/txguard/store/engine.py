"""Engines and sessions for the embedded SQLite file and for PostgreSQL.

Options are passed in explicitly (the runtime reads them from settings) so the store never
reads configuration itself.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from txguard.store.checkpoints import BACKSTOP_PAGES
from txguard.store.exceptions import StorageError


@dataclass(frozen=True)
class EngineOptions:
    """Pool and timeout settings; SQLite ignores the pool ones."""

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout_s: float = 5.0
    pool_recycle_s: int = 1800
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 30_000


def create_db_engine(url: str, options: EngineOptions | None = None) -> Engine:
    """An engine for ``url``: SQLite in WAL mode, or PostgreSQL through a bounded pool."""
    options = options or EngineOptions()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(url, options)
    raise StorageError(
        f"TXGUARD_DATABASE_URL: unsupported database {parsed.get_backend_name()!r}; "
        "use sqlite:///path or postgresql+psycopg://..."
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 30},
        json_serializer=json_text,
        json_deserializer=json_value,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work while the writer commits; foreign keys are off by default.

    Commits leave checkpoints to ``WalCheckpointer`` up to a backstop, and each connection
    caches up to 32 MB of pages: the indexes' leaf pages a scored row lands on are spread
    over the whole file, and the default 2 MB cache read most of them back from the OS.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _postgres_engine(url: str, options: EngineOptions) -> Engine:
    connect_args: dict[str, Any] = {"connect_timeout": options.connect_timeout_s}
    if options.statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={options.statement_timeout_ms}"
    return create_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout_s,
        pool_recycle=options.pool_recycle_s,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=json_text,
        json_deserializer=json_value,
    )


def json_text(value: Any) -> str:
    """JSON columns through orjson: explanations are written with every scored transaction,
    and the standard library's encoder cost more than the rest of the row's binding.

    What orjson refuses (integers beyond 64 bits, numpy scalars) goes through the standard
    library, as it always did; a float NaN, which is no JSON, is written as null.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """A JSON column read back; rows written before orjson may hold ``NaN``, which it refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, as services return them to callers."""
    return sessionmaker(engine, expire_on_commit=False)
