"""``txguard demo``: the newcomer's first run, from nothing to a live API over a populated database."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from txguard.cli.errors import reports_errors
from txguard.cli.runtime import command_runtime
from txguard.domain.datasets import DatasetSummary
from txguard.domain.enums import Decision, Role

if TYPE_CHECKING:
    from txguard.runtime import Runtime
    from txguard.scoring.decision import DecisionResult
    from txguard.scoring.history import History

SCENARIOS = {1: "amount over 220", 2: "compromised terminal", 3: "compromised card"}
MIN_TRAINING_DAYS = 30


@reports_errors
def demo(
    customers: Annotated[int, typer.Option(min=1, help="Simulated customers.")] = 500,
    terminals: Annotated[int, typer.Option(min=1, help="Simulated terminals.")] = 1000,
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 0,
    serve: Annotated[
        bool, typer.Option(help="Start the API and stream the days after training through it.")
    ] = True,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the API.")] = 8000,
    rate: Annotated[
        float, typer.Option(min=0.1, help="Transactions per second sent to the API.")
    ] = 100.0,
    stream_seconds: Annotated[
        float, typer.Option(min=0.0, help="How long to stream, at most.")
    ] = 20.0,
    keep_serving: Annotated[
        bool, typer.Option(help="Leave the API running after the stream, until Ctrl-C.")
    ] = False,
) -> None:
    """Simulate, migrate, import, train a model, explain a few decisions, then run the API.

    The API (``txguard serve`` on 127.0.0.1) scores the simulated days after the training
    window, sent to ``POST /api/v1/predict`` at a steady rate; the demo then prints the docs
    URL and the riskiest flagged transactions, and stops the server unless
    ``--keep-serving``.
    """
    serve = serve and days >= MIN_TRAINING_DAYS  # the API part needs a trained model
    if serve:
        from txguard.cli.stream_demo import HOST, ensure_port_free

        ensure_port_free(HOST, port)  # now, not after a minute of work
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
        frame = simulate(params)
        write_frame(frame, path)
        typer.echo(f"simulated {customers} customers, {terminals} terminals, {days} days -> {path}")
        migrate.upgrade(runtime.engine)
        typer.echo(f"database {runtime.settings.masked()['TXGUARD_DATABASE_URL']} migrated")
        imported = path
        if serve and days >= MIN_TRAINING_DAYS:
            # The API rebuilds its feature state from the database, so the days it is about to
            # receive live must not be in it already, or every card would count them twice.
            imported = path.with_name(f"history-{seed}.parquet")
            write_frame(
                frame[frame["TX_DATETIME"] < _stream_start(date(2018, 4, 1), days)], imported
            )
        report = service.import_file(
            engine=runtime.engine, path=imported, tokeniser=runtime.tokeniser
        )
        typer.echo(
            f"imported {report.transactions_added:,} new transactions in {report.seconds:.1f} s"
        )
        _print_summary(service.summarise(runtime.engine))
        trained = _train_and_score(runtime, path, date(2018, 4, 1), days)
        log = runtime.settings.data_dir / "demo" / "api.log"
        earlier = _streamed_before(runtime) if serve and trained is not None else 0
        if serve and trained is not None:
            service_key, analyst_key = _demo_keys(runtime)
    if not serve or trained is None:
        return
    from txguard.cli.stream_demo import StreamOptions, run

    history, first, last = trained
    if earlier:
        typer.echo(
            f"\n({earlier:,} transactions were decided by an earlier demo run; the API answers"
            " their ids with the stored decisions, as it does a payment network's retries)"
        )
    options = StreamOptions(
        port,
        rate,
        stream_seconds,
        keep_serving,
        service_key=service_key,
        analyst_key=analyst_key,
    )
    run(history, first, last, options, log)


def _demo_keys(runtime: "Runtime") -> tuple[str, str]:
    """Keys for the demo's payment switch (SERVICE) and analyst (ANALYST), issued per run.

    The API takes no anonymous calls, the demo included; its keys are ordinary ones, listed
    by ``txguard keys list`` and revocable like any other.
    """
    from txguard.security.accounts import issue_api_key

    def issue(owner: str, role: Role) -> str:
        return issue_api_key(
            runtime.engine, owner=owner, actor="cli:demo", role=role, expires_in_days=1
        ).raw

    return issue("demo-switch", Role.SERVICE), issue("demo-analyst", Role.ANALYST)


def _training_window(start: date, days: int) -> tuple[date, date]:
    """The middle of the simulated period: two weeks, ending eleven days before its end."""
    return start + timedelta(days=days - 24), start + timedelta(days=days - 11)


def _stream_start(start: date, days: int) -> datetime:
    """The first moment the API is fed live: the day after the training window."""
    first = _training_window(start, days)[1] + timedelta(days=1)
    return datetime(first.year, first.month, first.day)


def _train_and_score(
    runtime: "Runtime", path: "Path", start: date, days: int
) -> "tuple[History, date, date] | None":
    """Train on the middle of the simulated period, then explain a few of its last decisions.

    The history and the days after the training window, or None when too few days were
    simulated to train.
    """
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

    if days < MIN_TRAINING_DAYS:
        typer.echo(
            f"\n(at least {MIN_TRAINING_DAYS} simulated days are needed to train a model and"
            " serve it; skipped)"
        )
        return None
    history = load_history(path)
    train_start, train_end = _training_window(start, days)
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
    return history, train_end + timedelta(days=1), last


def _streamed_before(runtime: "Runtime") -> int:
    """How many transactions an earlier demo run sent through the API."""
    from sqlalchemy import func, select

    from txguard.cli.stream_demo import ID_PREFIX
    from txguard.store.orm import TransactionRow

    statement = select(func.count()).where(TransactionRow.transaction_id.startswith(ID_PREFIX))
    with runtime.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


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
