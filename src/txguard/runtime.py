"""Composition root: builds the objects the interfaces need from the settings.

There is no dependency-injection container; commands and (later) the API call
:func:`build_runtime` once and pass the pieces down.
"""

from dataclasses import dataclass

from sqlalchemy import Engine

from txguard.security.tokens import Tokeniser
from txguard.settings import Settings
from txguard.store.engine import EngineOptions, create_db_engine


@dataclass(frozen=True)
class Runtime:
    """Everything a command or a request handler works with."""

    settings: Settings
    engine: Engine
    tokeniser: Tokeniser

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()


def build_engine(settings: Settings) -> Engine:
    """The database engine described by the settings."""
    options = EngineOptions(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout_s=settings.db_pool_timeout_s,
        pool_recycle_s=settings.db_pool_recycle_s,
        connect_timeout_s=settings.db_connect_timeout_s,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    return create_db_engine(settings.sqlalchemy_url, options)


def build_runtime(settings: Settings) -> Runtime:
    """Wire the runtime for one process."""
    tokeniser = Tokeniser(settings.token_key.get_secret_value().encode("utf-8"))
    return Runtime(settings=settings, engine=build_engine(settings), tokeniser=tokeniser)
