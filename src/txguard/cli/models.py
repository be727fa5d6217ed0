"""``txguard models``: the registered model versions, and which one serves."""

import json
from typing import Annotated

import typer

from txguard.cli.admin import cli_actor
from txguard.cli.errors import reports_errors
from txguard.cli.runtime import migrated_runtime

app = typer.Typer(
    help="List, inspect, activate and roll back model versions.", no_args_is_help=True
)


@app.command("list")
@reports_errors
def list_models() -> None:
    """Every registered version, newest first; the serving one is marked with *."""
    from txguard.registry import service as registry

    with migrated_runtime() as runtime:
        rows = registry.list_versions(runtime.engine)
        active = registry.active_version(runtime.engine)
    if not rows:
        typer.echo("no model versions yet: run `txguard train`")
        return
    for row in rows:
        mark = "*" if row.version == active else " "
        auc = row.metrics.get("validation_auc_roc")
        shown = f"validation AUC {auc:.3f}" if isinstance(auc, float) else "no validation"
        window = (
            f"{row.train_start:%Y-%m-%d}..{row.train_end:%Y-%m-%d}"
            if row.train_start and row.train_end
            else "-"
        )
        typer.echo(
            f"{mark} {row.version}  {row.status.value:<10} {row.algorithm:<16} {window}  {shown}"
        )


@app.command("show")
@reports_errors
def show(version: Annotated[str, typer.Argument(help="The model version.")]) -> None:
    """A version's manifest: features, thresholds, training window, metrics, digest."""
    from txguard.registry import service as registry

    with migrated_runtime() as runtime:
        row = registry.get_version(runtime.engine, version)
        active = registry.active_version(runtime.engine)
    typer.echo(
        json.dumps(
            {
                "version": row.version,
                "status": row.status.value,
                "active": row.version == active,
                "algorithm": row.algorithm,
                "artifact": row.artifact_uri,
                "sha256": row.artifact_sha256,
                "feature_set_version": row.feature_set_version,
                "features": row.feature_names,
                "thresholds": row.thresholds,
                "train_start": row.train_start,
                "train_end": row.train_end,
                "metrics": row.metrics,
                "created_at": row.created_at,
                "created_by": row.created_by,
            },
            indent=2,
            default=str,
        )
    )


@app.command("activate")
@reports_errors
def activate(version: Annotated[str, typer.Argument(help="The model version.")]) -> None:
    """Serve ``version`` from now on (its artifact is verified first)."""
    from txguard.registry import service as registry

    with migrated_runtime() as runtime:
        registry.activate(runtime.engine, version, actor=cli_actor())
    typer.echo(f"{version} is active")


@app.command("rollback")
@reports_errors
def rollback() -> None:
    """Serve again the version that served before the current one."""
    from txguard.registry import service as registry

    with migrated_runtime() as runtime:
        version = registry.rollback(runtime.engine, actor=cli_actor())
    typer.echo(f"rolled back: {version} is active")
