"""``txguard migrate``: move the database schema to the revision this code needs."""

from typing import Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import command_runtime

app = typer.Typer(
    help="Upgrade the database schema (to the newest revision unless --revision is given).",
    invoke_without_command=True,
)


@app.callback()
@reports_errors
def upgrade(
    ctx: typer.Context,
    revision: Annotated[
        str, typer.Option("--revision", help="Revision to upgrade to.", show_default=True)
    ] = "head",
) -> None:
    """Upgrade the database schema (to the newest revision unless --revision is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from txguard.store import migrate

    with command_runtime() as runtime:
        migrate.upgrade(runtime.engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(runtime.engine)}")


@app.command("downgrade")
@reports_errors
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Revision to go back to; 'base' empties the schema.")
    ],
) -> None:
    """Move the schema back to an earlier revision."""
    from txguard.store import migrate

    with command_runtime() as runtime:
        migrate.downgrade(runtime.engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(runtime.engine) or 'base'}")


@app.command("current")
@reports_errors
def current() -> None:
    """Print the revision the database is at, and the one this code needs."""
    from txguard.store import migrate

    with command_runtime() as runtime:
        now = migrate.current_revision(runtime.engine) or "base"
        head = migrate.head_revision()
        state = "up to date" if now == head else "needs `txguard migrate`"
        typer.echo(f"database at {now}; code needs {head} ({state})")
