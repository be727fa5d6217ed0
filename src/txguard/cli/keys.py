"""``txguard keys``: API keys of machine clients (payment switch, stream producers).

A key is printed once, when it is created, alone on stdout so a script can capture it;
txguard keeps only its hash and cannot show it again.
"""

from datetime import datetime
from typing import Annotated

import typer

from txguard.cli.admin import cli_actor, reports_errors
from txguard.cli.runtime import migrated_runtime

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

MAX_DAYS = 3650


@app.command("create")
@reports_errors
def create(
    owner: Annotated[str, typer.Option("--owner", help="Who uses the key, e.g. payment-switch.")],
    role: Annotated[
        str, typer.Option("--role", help="SERVICE (score and send feedback) or a person's role.")
    ] = "SERVICE",
    expires_days: Annotated[
        int | None,
        typer.Option("--expires-days", min=1, max=MAX_DAYS, help="Expire after N days."),
    ] = None,
) -> None:
    """Issue a key and print it once; send it in the X-API-Key header."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        new = accounts.issue_api_key(
            runtime.engine,
            owner=owner,
            role=role,
            expires_in_days=expires_days,
            actor=cli_actor(),
        )
    key = new.key
    typer.echo(
        f"issued key {key.key_id} for {key.owner} ({key.role.value}), "
        f"expires {_when(key.expires_at, 'never')}",
        err=True,
    )
    typer.secho(
        "This key is shown only now and cannot be shown again: store it in a secrets manager.",
        err=True,
        fg=typer.colors.YELLOW,
    )
    typer.echo(new.raw)


@app.command("list")
@reports_errors
def list_keys() -> None:
    """Every key, newest first (UTC times); never the key or its hash."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        keys = accounts.list_api_keys(runtime.engine)
    if not keys:
        typer.echo("no API keys yet: run `txguard keys create --owner NAME`")
        return
    typer.echo(
        f"{'KEY ID':<16}  {'OWNER':<24} {'ROLE':<8} {'CREATED':<16}  {'EXPIRES':<16}  "
        f"{'REVOKED':<16}  LAST USED"
    )
    for key in keys:
        typer.echo(
            f"{key.key_id:<16}  {key.owner:<24} {key.role.value:<8} {_when(key.created_at):<16}  "
            f"{_when(key.expires_at, 'never'):<16}  {_when(key.revoked_at):<16}  "
            f"{_when(key.last_used_at, 'never')}"
        )


@app.command("revoke")
@reports_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (shown by keys list).")],
) -> None:
    """Revoke a key for good; running API processes refuse it within seconds."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        key = accounts.revoke_api_key(runtime.engine, key_id=key_id, actor=cli_actor())
    typer.echo(f"revoked key {key.key_id} of {key.owner}")


def _when(value: datetime | None, missing: str = "-") -> str:
    return missing if value is None else f"{value:%Y-%m-%d %H:%M}"
