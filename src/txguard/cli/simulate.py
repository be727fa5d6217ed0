"""``txguard simulate``: the handbook's transactions with known fraud, written to a file."""

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.domain.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


def _parse_start_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InputError(f"--start-date must be a date as YYYY-MM-DD, got '{value}'") from exc


def _summary(frame: "pd.DataFrame", out: Path, seconds: float) -> str:
    """One line a person can check against the handbook's figures at a glance."""
    rows = len(frame)
    frauds = int(frame["TX_FRAUD"].sum())
    share = frauds / rows if rows else 0.0
    counts = frame["TX_FRAUD_SCENARIO"].value_counts()
    scenarios = ", ".join(f"{s}: {int(counts.get(s, 0)):,}" for s in (1, 2, 3))
    return (
        f"wrote {rows:,} transactions, {frauds:,} frauds ({share:.2%}; by scenario {scenarios}) "
        f"to {out} in {seconds:.1f} s"
    )


@reports_errors
def simulate(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="File to write: .parquet or .csv (by extension).",
            dir_okay=False,
        ),
    ],
    customers: Annotated[int, typer.Option("--customers", help="Number of customers.")] = 5000,
    terminals: Annotated[int, typer.Option("--terminals", help="Number of terminals.")] = 10000,
    days: Annotated[int, typer.Option("--days", help="Number of days simulated.")] = 183,
    start_date: Annotated[
        str,
        typer.Option(
            "--start-date",
            metavar="YYYY-MM-DD",
            help="Date of the first simulated day.",
        ),
    ] = "2018-04-01",
    seed: Annotated[
        int,
        typer.Option("--seed", help="Random seed; the same seed gives the same file."),
    ] = 0,
    radius: Annotated[
        float,
        typer.Option(
            "--radius",
            help="Distance within which a customer uses terminals (grid is 100 x 100).",
        ),
    ] = 5.0,
) -> None:
    """Simulate card transactions with known fraud, as the handbook does (see SIMULATOR.md)."""
    import time

    from txguard.files.writer import check_extension, write_frame
    from txguard.simulation import SimulationParams
    from txguard.simulation import simulate as run

    started = time.perf_counter()
    params = SimulationParams(
        customers=customers,
        terminals=terminals,
        days=days,
        start_date=_parse_start_date(start_date),
        seed=seed,
        radius=radius,
    )
    check_extension(out)
    frame = run(params)
    write_frame(frame, out)
    typer.echo(_summary(frame, out, time.perf_counter() - started))
