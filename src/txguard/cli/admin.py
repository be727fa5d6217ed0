"""What the user and key commands share: how the audit trail names their actor, and their
exit codes (2 for bad input as everywhere, 1 for a user or key that does not exist)."""

import getpass
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from txguard.cli.errors import user_errors
from txguard.domain.errors import NotFoundError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_NOT_FOUND = 1


def cli_actor() -> str:
    """``cli:<OS user name>``: who ran the command, as far as the machine knows."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user with no passwd entry and no LOGNAME
        return "cli:unknown"


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Like :func:`txguard.cli.errors.reports_errors`, but a missing user or key exits with 1,
    so a script can tell "no such key" from "you typed it wrong"."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with user_errors():
            try:
                return command(*args, **kwargs)
            except NotFoundError as exc:
                typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
                raise typer.Exit(EXIT_NOT_FOUND) from exc

    return wrapper
