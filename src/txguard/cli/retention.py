"""``txguard retention``: delete request logs and decisions past their retention period.

Meant for cron while the API serves (docs/operations.md): work goes in short batches, and
both cutoffs come from one clock reading, so a run's output says exactly what it removed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import migrated_runtime
from txguard.domain.errors import InputError
from txguard.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from txguard.store.retention import RetainedData

app = typer.Typer(
    help="Delete request logs and decisions past their retention period.", no_args_is_help=True
)

# Bound by SQLite's parameters per statement; txguard.store.retention.MAX_BATCH_SIZE.
MAX_BATCH_SIZE = 30_000


def _setting_default(name: str) -> str:
    """Help names the setting that decides when the option is absent, and its default."""
    return f"Default: {ENV_PREFIX}{name.upper()} ({Settings.model_fields[name].default})."


@dataclass(frozen=True)
class _Job:
    """One kind of data to age out, and how its lines in the report read."""

    data: "RetainedData"
    days: int
    rows: str
    age: str


@app.command("run")
@reports_errors
def run(
    request_log_days: Annotated[
        int | None,
        typer.Option(
            "--request-log-days",
            min=1,
            help="Keep request logs this many days. "
            + _setting_default("request_log_retention_days"),
        ),
    ] = None,
    decision_days: Annotated[
        int | None,
        typer.Option(
            "--decision-days",
            min=1,
            help="Keep scored transactions and their labels this many days. "
            + _setting_default("decision_retention_days"),
        ),
    ] = None,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, max=MAX_BATCH_SIZE, help="Rows deleted per transaction."
        ),
    ] = 5000,
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            metavar="DIR",
            file_okay=False,
            help="Append deleted rows to JSON-lines files in DIR (created if missing) first.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete the request logs and the decisions older than their retention periods."""
    if archive is not None and not dry_run:
        _prepare_archive(archive)
    now = datetime.now(UTC).replace(microsecond=0)
    with migrated_runtime() as runtime:
        settings = runtime.settings
        jobs = [
            _Job(
                "request_log",
                _or(request_log_days, settings.request_log_retention_days),
                "request_log rows",
                "received",
            ),
            _Job(
                "decisions",
                _or(decision_days, settings.decision_retention_days),
                "transactions (with their labels)",
                "that occurred",
            ),
        ]
        for job in jobs:
            cutoff = now - timedelta(days=job.days)
            count = _apply(runtime.engine, job, cutoff, batch_size, archive, dry_run)
            typer.echo(_report(job, cutoff, count, dry_run))
    if dry_run:
        typer.echo("dry run: nothing was deleted")
    elif archive is not None:
        typer.echo(f"deleted rows archived in {archive}")


def _or(given: int | None, default: int) -> int:
    return default if given is None else given


def _prepare_archive(archive: Path) -> None:
    """Fail before deleting anything if the archive cannot be written to at all."""
    try:
        archive.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--archive {archive}: {exc.strerror or exc}") from exc


def _apply(
    engine: "Engine",
    job: _Job,
    cutoff: datetime,
    batch_size: int,
    archive: Path | None,
    dry_run: bool,
) -> int:
    from txguard.store import retention

    if dry_run:
        return retention.count_older_than(engine, job.data, cutoff)
    return retention.delete_older_than(engine, job.data, cutoff, batch_size, archive)


def _report(job: _Job, cutoff: datetime, count: int, dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    return (
        f"{job.data}: {verb} {count} {job.rows} {job.age} before "
        f"{cutoff:%Y-%m-%dT%H:%M:%SZ} (older than {job.days} days)"
    )
