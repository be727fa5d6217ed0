"""``txguard demo``: the newcomer's first run, from nothing to a populated database."""

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import command_runtime
from txguard.domain.datasets import DatasetSummary
from txguard.domain.enums import Decision

if TYPE_CHECKING:
    from txguard.runtime import Runtime
    from txguard.scoring.decision import DecisionResult

SCENARIOS = {1: "amount over 220", 2: "compromised terminal", 3: "compromised card"}


@reports_errors
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Simulated customers.")] = 500,
    terminals: Annotated[int, typer.Option(min=1, help="Simulated terminals.")] = 1000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
) -> None:
    """Simulate, migrate, import, train a model and show a few explained decisions."""
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
        _train_and_score(runtime, path, date(2018, 4, 1), days)


def _train_and_score(runtime: "Runtime", path: "Path", start: date, days: int) -> None:
    """Train on the middle of the simulated period, then explain a few of its last decisions."""
    from txguard.cli.explained import print_decision
    from txguard.features.definitions import FeatureConfig
    from txguard.features.online import OnlineFeatures
    from txguard.features.state import MemoryStore
    from txguard.models.training import TrainingOptions
    from txguard.registry import service as registry
    from txguard.scoring import rulebook
    from txguard.scoring.history import load_history
    from txguard.scoring.pipeline import ScoringPipeline
    from txguard.scoring.replay import replay_decisions
    from txguard.scoring.trainer import train

    if days < 30:
        typer.echo("\n(at least 30 simulated days are needed to train a model; skipped)")
        return
    history = load_history(path)
    train_start, train_end = start + timedelta(days=days - 24), start + timedelta(days=days - 11)
    options = TrainingOptions(alerts_per_day=20)
    bundle = train(history, train_start, train_end, label_delay_days=7, options=options)
    if registry.active_version(runtime.engine) != bundle.version:
        if not _registered(runtime, bundle.version):
            registry.register(runtime.engine, bundle, runtime.settings.artifact_dir, actor="demo")
        registry.activate(runtime.engine, bundle.version, actor="demo")
    auc = bundle.metrics.get("validation_auc_roc", float("nan"))
    typer.echo(f"\ntrained and activated {bundle.version} (validation AUC {auc:.3f})")
    rulebook.ensure_default_rules(runtime.engine)
    pipeline = ScoringPipeline(
        OnlineFeatures(MemoryStore(), FeatureConfig()),
        rulebook.load_rule_set(runtime.engine),
        registry.load_active(runtime.engine).bundle,
    )
    last = start + timedelta(days=days - 1)
    _, results = replay_decisions(history, pipeline, last, last, explain=True)
    typer.echo(f"scored the {len(results):,} transactions of {last}; a few of the decisions:")
    for result in _examples(results):
        print_decision(result)


def _registered(runtime: "Runtime", version: str) -> bool:
    from txguard.domain.errors import NotFoundError
    from txguard.registry import service as registry

    try:
        registry.get_version(runtime.engine, version)
    except NotFoundError:
        return False
    return True


def _examples(results: "list[DecisionResult]") -> "list[DecisionResult]":
    """The riskiest block and review, and the safest approval: one of each kind."""
    ranked = sorted(results, key=lambda r: -r.risk_score)
    picked = []
    for decision in (Decision.BLOCK, Decision.REVIEW):
        picked += [r for r in ranked if r.decision is decision][:1]
    picked += [r for r in reversed(ranked) if r.decision is Decision.APPROVE][:1]
    return picked


def _print_summary(summary: DatasetSummary) -> None:
    typer.echo("")
    typer.echo(f"transactions  {summary.transactions:>10,}")
    typer.echo(f"labelled      {summary.labelled:>10,}")
    typer.echo(f"frauds        {summary.frauds:>10,}  ({summary.fraud_share:.2%} of labelled)")
    for scenario, count in summary.frauds_by_scenario.items():
        typer.echo(f"  scenario {scenario}  {count:>10,}  {SCENARIOS.get(scenario, '')}")
