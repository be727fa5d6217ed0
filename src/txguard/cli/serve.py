"""``txguard serve``: the HTTP API in one or more worker processes."""

from typing import Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import migrated_runtime
from txguard.domain.errors import ConfigurationError


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the API; several workers share the feature state through Redis.

    Workers are separate processes: without a shared feature store each would count only
    the transactions it happened to receive, so ``--workers`` above 1 needs
    ``TXGUARD_REDIS_URL``.
    """
    import uvicorn

    with migrated_runtime() as runtime:
        if workers > 1 and runtime.settings.redis_url is None:
            raise ConfigurationError(
                "--workers above 1 needs TXGUARD_REDIS_URL: the workers must share feature state"
            )
        if runtime.settings.sqlalchemy_url.startswith("sqlite") and workers > 1:
            typer.echo("note: several workers on SQLite serialise their writes", err=True)
    typer.echo(f"txguard API on http://{host}:{port}/api/docs ({workers} worker(s))")
    uvicorn.run(
        "txguard.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
    )
