"""Root of the ``txguard`` command line; see DESIGN.md "Command-line contract"."""

from typing import Annotated

import typer

from txguard import __version__
from txguard.cli import (
    audit,
    config,
    demo,
    detection,
    importer,
    keys,
    migrate,
    models,
    retention,
    rules,
    serve,
    simulate,
    users,
)

app = typer.Typer(
    name="txguard",
    help="Real-time card transaction fraud detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(config.app, name="config")
app.add_typer(migrate.app, name="migrate")
app.command("simulate")(simulate.simulate)
app.command("import")(importer.import_data)
app.command("demo")(demo.demo)
app.command("train")(detection.train)
app.command("replay")(detection.replay)
app.command("backtest")(detection.backtest)
app.add_typer(models.app, name="models")
app.add_typer(rules.rules_app, name="rules")
app.add_typer(rules.lists_app, name="lists")
app.add_typer(retention.app, name="retention")
app.command("serve")(serve.serve)
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"txguard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Real-time card transaction fraud detection."""


def main() -> None:
    """Console-script entry point."""
    app()
