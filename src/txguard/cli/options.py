"""Options shared by several commands, spelled once so every command spells them alike."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from txguard.domain.errors import InputError


def parse_day(value: str, flag: str) -> date:
    """A calendar day given as YYYY-MM-DD, or an error naming the flag."""
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InputError(f"{flag} must be a date as YYYY-MM-DD, got '{value}'") from exc


def parse_period(start: str, end: str, start_flag: str, end_flag: str) -> tuple[date, date]:
    """Two inclusive calendar days, in order, or an error naming the flags."""
    first, last = parse_day(start, start_flag), parse_day(end, end_flag)
    if last < first:
        raise InputError(f"{end_flag} {last} is before {start_flag} {first}")
    return first, last


DataFile = Annotated[
    Path, typer.Option("--data", help="CSV or Parquet file, simulator or anonymised layout.")
]
LabelDelay = Annotated[
    int,
    typer.Option(
        "--label-delay-days",
        min=1,
        help="Days after a transaction its label becomes known (as chargebacks arrive).",
    ),
]
AlertsPerDay = Annotated[
    float,
    typer.Option(
        "--alerts-per-day", min=1, help="Alerts the fraud team can review a day (sets thresholds)."
    ),
]
