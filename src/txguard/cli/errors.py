"""One place where deliberate errors become a message on stderr and exit code 2."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from txguard.domain.errors import TxguardError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a :class:`TxguardError` into ``error: <message>`` and exit code 2, never a traceback."""
    try:
        yield
    except TxguardError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(EXIT_BAD_INPUT) from exc


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`user_errors` for a whole command."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with user_errors():
            return command(*args, **kwargs)

    return wrapper
