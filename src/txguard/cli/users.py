"""``txguard users``: the people who sign in, their roles, and who may no longer sign in."""

import sys
from datetime import datetime
from typing import Annotated

import typer

from txguard.cli.admin import cli_actor, reports_errors
from txguard.cli.runtime import migrated_runtime

app = typer.Typer(
    help="Create, list, disable and enable users; change their role.", no_args_is_help=True
)

Username = Annotated[str, typer.Argument(help="The user's name.")]
ROLE_HELP = "ANALYST (alert queue), ADMIN (everything) or AUDITOR (reads everything)."


@app.command("create")
@reports_errors
def create(
    username: Annotated[str, typer.Option("--username", help="3 to 64 of A-Z a-z 0-9 . _ @ -")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin, not a prompt."),
    ] = False,
) -> None:
    """Create a user; the password is asked twice (hidden) and never taken as an argument."""
    from txguard.domain import identity
    from txguard.security import accounts

    name, user_role = identity.username(username), identity.user_role(role)
    password = _password_from_stdin() if password_stdin else _password_from_prompt()
    with migrated_runtime() as runtime:
        user = accounts.create_user(
            runtime.engine, username=name, password=password, role=user_role, actor=cli_actor()
        )
    typer.echo(f"created user {user.username} ({user.role.value})")


@app.command("list")
@reports_errors
def list_users() -> None:
    """Every user with role, whether disabled, and last login (UTC)."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        users = accounts.list_users(runtime.engine)
    if not users:
        typer.echo("no users yet: run `txguard users create --username NAME --role ADMIN`")
        return
    typer.echo(f"{'USERNAME':<32} {'ROLE':<8} {'DISABLED':<8} LAST LOGIN")
    for user in users:
        disabled = "yes" if user.disabled else "no"
        typer.echo(
            f"{user.username:<32} {user.role.value:<8} {disabled:<8} {_when(user.last_login_at)}"
        )


@app.command("disable")
@reports_errors
def disable(username: Username) -> None:
    """Stop a user from signing in; their refresh tokens are revoked now."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        accounts.disable_user(runtime.engine, username=username, actor=cli_actor())
    typer.echo(f"disabled {username}")


@app.command("enable")
@reports_errors
def enable(username: Username) -> None:
    """Let a disabled user sign in again."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        accounts.enable_user(runtime.engine, username=username, actor=cli_actor())
    typer.echo(f"enabled {username}")


@app.command("set-role")
@reports_errors
def set_role(username: Username, role: Annotated[str, typer.Argument(help=ROLE_HELP)]) -> None:
    """Give a user another role; running API processes apply it within seconds."""
    from txguard.security import accounts

    with migrated_runtime() as runtime:
        user = accounts.set_role(runtime.engine, username=username, role=role, actor=cli_actor())
    typer.echo(f"{user.username} is now {user.role.value}")


def _password_from_prompt() -> str:
    from txguard.security.passwords import check_password

    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return check_password(password)


def _password_from_stdin() -> str:
    from txguard.domain.identity import IdentityInputError
    from txguard.security.passwords import check_password

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise IdentityInputError("password", "--password-stdin read nothing from stdin")
    return check_password(password)


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"
