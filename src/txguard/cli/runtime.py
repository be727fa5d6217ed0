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
