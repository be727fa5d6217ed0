"""``txguard import``: load a transaction file and its labels into the database."""

from pathlib import Path
from typing import Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import command_runtime


@reports_errors
def import_data(
    data: Annotated[
        Path, typer.Option("--data", help="CSV or Parquet file, simulator or anonymised layout.")
    ],
    label_delay_days: Annotated[
        int,
        typer.Option(
            "--label-delay-days", min=0, help="Days after a transaction its label is known."
        ),
    ] = 7,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows read and written per batch.")
    ] = 200_000,
    id_prefix: Annotated[
        str,
        typer.Option(
            "--id-prefix", help="Put before every transaction id (files whose ids restart at 0)."
        ),
    ] = "",
) -> None:
    """Import transactions and labels; importing the same file again adds nothing."""
    from datetime import timedelta

    from txguard.ingest import service

    with command_runtime() as runtime:
        report = service.import_file(
            engine=runtime.engine,
            path=data,
            tokeniser=runtime.tokeniser,
            label_delay=timedelta(days=label_delay_days),
            chunk_rows=chunk_rows,
            id_prefix=id_prefix,
        )
    typer.echo(
        f"{report.path}: {report.layout} layout, {report.rows_read:,} rows read, "
        f"{report.transactions_added:,} transactions and {report.labels_added:,} labels added "
        f"in {report.seconds:.1f} s"
    )
