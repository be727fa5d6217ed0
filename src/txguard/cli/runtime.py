"""How commands get their runtime: settings read once, resources released on exit."""

from collections.abc import Iterator
from contextlib import contextmanager

from txguard.runtime import Runtime, build_runtime
from txguard.settings import get_settings


@contextmanager
def command_runtime() -> Iterator[Runtime]:
    """The process runtime for the length of one command."""
    runtime = build_runtime(get_settings())
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def migrated_runtime() -> Iterator[Runtime]:
    """The runtime of a command that reads or writes the database: the schema must be current."""
    from txguard.ingest.service import ensure_schema_current

    with command_runtime() as runtime:
        ensure_schema_current(runtime.engine)
        yield runtime
