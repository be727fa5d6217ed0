"""``txguard config``: what the process would run with."""

import typer

from txguard.cli.errors import reports_errors

app = typer.Typer(help="Inspect the effective settings.", no_args_is_help=True)


@app.command("show")
@reports_errors
def show() -> None:
    """Print the effective settings, secrets masked."""
    from txguard.settings import get_settings

    for name, value in get_settings().masked().items():
        typer.echo(f"{name}={value}")
