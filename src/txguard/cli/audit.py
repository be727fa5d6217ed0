"""``txguard audit``: check the audit trail's hash chain and export it for an outside archive.

An export is JSON lines, one event per line with both hashes, so an archive can check it
without txguard's database; its last line is the anchor that later proves the newest events
were neither removed nor rewritten (``verify --anchor``).
"""

import json
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import migrated_runtime
from txguard.domain.errors import InputError

if TYPE_CHECKING:
    from txguard.domain.audit import Anchor, AuditRecord, ChainReport

app = typer.Typer(
    help="Check the audit trail's hash chain; export it as JSON lines.", no_args_is_help=True
)
EXIT_BROKEN = 1
STDOUT = "-"


@app.command("verify")
@reports_errors
def verify(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="An earlier export: its last event must still be there with the same hash.",
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Check an export file instead of the database."),
    ] = None,
) -> None:
    """Walk the chain; exit 1 naming the first event altered, removed or inserted."""
    kept = _anchor(anchor) if anchor is not None else None
    if file is not None:
        with _reading(file) as lines:
            report = _check_export(_records(lines, file), kept)
    else:
        from txguard.store import audit

        with migrated_runtime() as runtime:
            report = audit.verify(runtime.engine, kept)
    _report(report)


@app.command("export")
@reports_errors
def export(
    out: Annotated[str, typer.Option("--out", help="The JSON lines file to write; - for stdout.")],
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since", formats=["%Y-%m-%d"], help="Only events from this UTC day (YYYY-MM-DD)."
        ),
    ] = None,
) -> None:
    """Write every event, oldest first, one JSON object a line, read in chunks."""
    from txguard.store import audit

    start = since.replace(tzinfo=UTC) if since is not None else None
    with migrated_runtime() as runtime, _writing(out) as stream:
        count = _write(stream, audit.iter_events(runtime.engine, since=start))
    if out != STDOUT:
        typer.echo(f"exported {count} events to {out}")


def _report(report: "ChainReport") -> None:
    problem = report.problem
    if problem is None:
        typer.echo(f"audit chain intact: {_events(report.count)}")
        return
    typer.secho(
        f"audit chain broken: event {problem.event_id} was {problem.kind.value}: "
        f"{problem.detail} ({_events(report.count)} before it intact)",
        err=True,
        fg=typer.colors.RED,
    )
    raise typer.Exit(EXIT_BROKEN)


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _write(stream: TextIO, records: Iterable["AuditRecord"]) -> int:
    from txguard.domain.audit import to_document

    count = 0
    for record in records:
        stream.write(json.dumps(to_document(record), ensure_ascii=False) + "\n")
        count += 1
    return count


def _records(lines: Iterable[str], path: Path) -> Iterator["AuditRecord"]:
    from txguard.domain.audit import from_document

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield from_document(json.loads(line))
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: line {number}: {exc}") from None


def _check_export(records: Iterator["AuditRecord"], anchor: "Anchor | None") -> "ChainReport":
    """An export from a date starts mid-chain: its first link is taken on trust."""
    from txguard.domain.audit import FIRST_ID, Anchor, check_chain

    first = next(records, None)
    if first is None:
        return check_chain([], anchor)
    if first.id != FIRST_ID:
        typer.echo(f"checking from event {first.id}; its link to event {first.id - 1} is trusted")
    start = None if first.id == FIRST_ID else Anchor(first.id - 1, first.prev_hash)
    return check_chain(chain([first], records), anchor, start)


def _anchor(path: Path) -> "Anchor":
    """The last event of an earlier export, as the id and hash it had then."""
    from txguard.domain.audit import Anchor

    with _reading(path) as lines:
        last = deque(_records(lines, path), maxlen=1)
    if not last:
        raise InputError(f"--anchor: {path} holds no audit event")
    return Anchor(last[0].id, last[0].hash)


@contextmanager
def _reading(path: Path) -> Iterator[TextIO]:
    try:
        with path.open(encoding="utf-8") as stream:
            yield stream
    except OSError as exc:
        raise InputError(f"{path}: cannot read it: {exc.strerror}") from None


@contextmanager
def _writing(out: str) -> Iterator[TextIO]:
    if out == STDOUT:
        yield sys.stdout
        return
    try:
        with Path(out).open("w", encoding="utf-8") as stream:
            yield stream
    except OSError as exc:
        raise InputError(f"--out: cannot write {out}: {exc.strerror}") from None
