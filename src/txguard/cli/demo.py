"""``txguard demo``: the newcomer's first run, from nothing to a populated database."""

from datetime import date
from typing import Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import command_runtime
from txguard.domain.datasets import DatasetSummary

SCENARIOS = {1: "amount over 220", 2: "compromised terminal", 3: "compromised card"}


@reports_errors
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Simulated customers.")] = 500,
    terminals: Annotated[int, typer.Option(min=1, help="Simulated terminals.")] = 1000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
) -> None:
    """Simulate a small data set, migrate the database, import it and summarise it."""
    from txguard.files.writer import write_frame
    from txguard.ingest import service
    from txguard.simulation import SimulationParams, simulate
    from txguard.store import migrate

    with command_runtime() as runtime:
        path = runtime.settings.data_dir / "demo" / f"transactions-{seed}.parquet"
        params = SimulationParams(
            customers=customers,
            terminals=terminals,
            days=days,
            start_date=date(2018, 4, 1),
            seed=seed,
        )
        write_frame(simulate(params), path)
        typer.echo(f"simulated {customers} customers, {terminals} terminals, {days} days -> {path}")
        migrate.upgrade(runtime.engine)
        typer.echo(f"database {runtime.settings.masked()['TXGUARD_DATABASE_URL']} migrated")
        report = service.import_file(engine=runtime.engine, path=path, tokeniser=runtime.tokeniser)
        typer.echo(
            f"imported {report.transactions_added:,} new transactions in {report.seconds:.1f} s"
        )
        _print_summary(service.summarise(runtime.engine))


def _print_summary(summary: DatasetSummary) -> None:
    typer.echo("")
    typer.echo(f"transactions  {summary.transactions:>10,}")
    typer.echo(f"labelled      {summary.labelled:>10,}")
    typer.echo(f"frauds        {summary.frauds:>10,}  ({summary.fraud_share:.2%} of labelled)")
    for scenario, count in summary.frauds_by_scenario.items():
        typer.echo(f"  scenario {scenario}  {count:>10,}  {SCENARIOS.get(scenario, '')}")
