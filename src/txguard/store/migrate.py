"""Schema migrations shipped in the package, driven through Alembic's Python API."""

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from txguard.store.exceptions import MigrationError, StorageError

FILE_TEMPLATE = "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s"


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations inside the installed package."""
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    config.set_main_option("file_template", FILE_TEMPLATE)
    return config


def _migrations_dir() -> Path:
    return Path(str(resources.files("txguard.store") / "migrations"))


def head_revision() -> str:
    """The newest revision this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("the package ships no migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot read the schema revision: {exc.__class__.__name__}: {exc}"
        ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Move the schema forward to ``revision`` in one transaction."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Move the schema back to ``revision`` (``base`` empties it)."""
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config, revision)
    except CommandError as exc:
        raise MigrationError(f"migration to {revision!r} failed: {exc}") from exc
    except SQLAlchemyError as exc:
        raise StorageError(
            f"migration to {revision!r} failed: {exc.__class__.__name__}: {exc}"
        ) from exc
