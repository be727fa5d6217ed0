"""``txguard train``, ``replay`` and ``backtest``: the detection engine on a transaction file."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from txguard.cli.admin import cli_actor
from txguard.cli.errors import reports_errors
from txguard.cli.options import AlertsPerDay, DataFile, LabelDelay, parse_day, parse_period
from txguard.cli.runtime import migrated_runtime
from txguard.domain.errors import InputError

if TYPE_CHECKING:
    from txguard.models.artifact import ModelBundle


@reports_errors
def train(
    data: DataFile,
    train_start: Annotated[str, typer.Option("--train-start", help="First training day.")],
    train_end: Annotated[str, typer.Option("--train-end", help="Last training day.")],
    label_delay_days: LabelDelay = 7,
    alerts_per_day: AlertsPerDay = 100.0,
    activate: Annotated[
        bool, typer.Option("--activate", help="Serve the new version at once.")
    ] = False,
) -> None:
    """Train a model version on the labelled days of a file and register it."""
    from txguard.models.training import TrainingOptions
    from txguard.registry import service as registry
    from txguard.scoring.history import load_history
    from txguard.scoring.trainer import train as train_model

    start, end = parse_period(train_start, train_end, "--train-start", "--train-end")
    with migrated_runtime() as runtime:
        history = load_history(data)
        bundle = train_model(
            history,
            start,
            end,
            label_delay_days=label_delay_days,
            options=TrainingOptions(alerts_per_day=alerts_per_day),
        )
        version = registry.register(
            runtime.engine, bundle, runtime.settings.artifact_dir, actor=cli_actor()
        )
        if activate:
            registry.activate(runtime.engine, version, actor=cli_actor())
    _report_training(bundle, activate, history.missing)


def _report_training(bundle: "ModelBundle", activated: bool, notes: list[str]) -> None:
    t = bundle.thresholds
    typer.echo(
        f"trained {bundle.version} ({bundle.algorithm}, {len(bundle.feature_names)} features)"
    )
    for name in ("validation_auc_roc", "validation_average_precision"):
        if name in bundle.metrics:
            typer.echo(f"  {name.replace('_', ' ')}: {bundle.metrics[name]:.3f}")
    block = f"block >= {t.block:.4f}" if t.block <= 1.0 else "the model never blocks alone"
    typer.echo(
        f"  thresholds for {t.alerts_per_day:g} alerts a day: review >= {t.review:.4f}, {block}"
    )
    for note in notes:
        typer.echo(f"  note: {note}")
    typer.echo(
        "  active: yes"
        if activated
        else f"  activate with: txguard models activate {bundle.version}"
    )


@reports_errors
def replay(
    data: DataFile,
    score_start: Annotated[str, typer.Option("--score-start", help="First day to score.")],
    score_end: Annotated[str, typer.Option("--score-end", help="Last day to score.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for the scores.")],
    label_delay_days: LabelDelay = 7,
) -> None:
    """Feed a file through the online pipeline in time order and write the scores."""
    from datetime import timedelta

    from txguard.features.definitions import FeatureConfig
    from txguard.features.online import OnlineFeatures
    from txguard.features.state import MemoryStore
    from txguard.registry import service as registry
    from txguard.scoring import rulebook
    from txguard.scoring.history import load_history
    from txguard.scoring.pipeline import ScoringPipeline
    from txguard.scoring.replay import OUTPUT_COLUMNS
    from txguard.scoring.replay import replay as run_replay

    start, end = parse_period(score_start, score_end, "--score-start", "--score-end")
    if out.suffix.lower() != ".csv":
        raise InputError(f"--out must name a .csv file, got '{out}'")
    with migrated_runtime() as runtime:
        history = load_history(data)
        history.require_rows(start, end, "the scoring window")
        rulebook.ensure_default_rules(runtime.engine)
        rules = rulebook.load_rule_set(runtime.engine, extra_numeric=history.extras)
        active = registry.load_active(runtime.engine)
    config = FeatureConfig(label_delay=timedelta(days=label_delay_days))
    pipeline = ScoringPipeline(
        OnlineFeatures(MemoryStore(), config), rules, active.bundle, degraded_reason=active.problem
    )
    scored = run_replay(history, pipeline, start, end)
    out.parent.mkdir(parents=True, exist_ok=True)
    scored[list(OUTPUT_COLUMNS)].to_csv(out, index=False)
    if pipeline.degraded:
        typer.secho(f"warning: degraded: {pipeline.degraded_reason}", err=True, fg="yellow")
    counts = scored["decision"].value_counts()
    summary = ", ".join(f"{d}: {int(counts.get(d, 0)):,}" for d in ("approve", "review", "block"))
    version = active.bundle.version if active.bundle else "none"
    typer.echo(f"scored {len(scored):,} transactions with model {version} ({summary}) to {out}")


@reports_errors
def backtest(
    data: DataFile,
    train_start: Annotated[str, typer.Option("--train-start", help="First training day.")],
    train_end: Annotated[str, typer.Option("--train-end", help="Last training day.")],
    test_start: Annotated[str, typer.Option("--test-start", help="First test day.")],
    test_end: Annotated[str, typer.Option("--test-end", help="Last test day.")],
    label_delay_days: LabelDelay = 7,
    alerts_per_day: AlertsPerDay = 100.0,
    review_cost: Annotated[
        float, typer.Option("--review-cost", min=0, help="Cost of reviewing one alert.")
    ] = 5.0,
    fraud_loss_share: Annotated[
        float,
        typer.Option(
            "--fraud-loss-share", min=0, max=1, help="Share of a fraud's amount the bank loses."
        ),
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train on one period, replay the next online, and measure (SIMULATOR.md protocol)."""
    from txguard.models.training import TrainingOptions
    from txguard.rules import DEFAULT_RULES, RuleSet
    from txguard.scoring.backtest import BacktestPlan
    from txguard.scoring.backtest import backtest as run_backtest
    from txguard.scoring.history import load_history

    plan = BacktestPlan(
        parse_day(train_start, "--train-start"),
        parse_day(train_end, "--train-end"),
        parse_day(test_start, "--test-start"),
        parse_day(test_end, "--test-end"),
        label_delay_days=label_delay_days,
        review_cost=review_cost,
        fraud_loss_share=fraud_loss_share,
        options=TrainingOptions(alerts_per_day=alerts_per_day),
    )
    plan.check()
    history = load_history(data)
    report = run_backtest(history, plan, RuleSet(DEFAULT_RULES, extra_numeric=history.extras))
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(_human(report))


def _human(report: dict[str, Any]) -> str:
    lines = [f"model {report['model_version']}"]
    for name in ("model", "rules_only", "anomaly_only"):
        part = report[name]
        metrics = part.get("metrics")
        if not part.get("available"):
            lines.append(f"{name}: not available ({part.get('reason', 'no score')})")
            continue
        if not metrics:
            lines.append(f"{name}: scored, but the file has no labels to measure it with")
            continue
        lines.append(
            f"{name}: AUC {_f(metrics['auc_roc'])}  AP {_f(metrics['average_precision'])}  "
            f"CP@{metrics['k']} {_f(metrics['card_precision_at_k'])}"
        )
        handbook = part.get("metrics_handbook_rule")
        if handbook:
            lines.append(
                f"  (with the handbook's known-card rule: AUC {_f(handbook['auc_roc'])}  "
                f"AP {_f(handbook['average_precision'])}  "
                f"CP@{metrics['k']} {_f(handbook['card_precision_at_k'])})"
            )
        policy = part["policy"]
        lines.append(
            f"  {policy['alerts_per_day']:.1f} alerts a day, precision {_f(policy['precision'])}, "
            f"caught {policy['frauds_caught']} frauds ({policy['frauds_caught_amount']:,.2f}), "
            f"missed {policy['frauds_missed']} ({policy['frauds_missed_amount']:,.2f}), "
            f"net {policy['net']:,.2f}"
        )
    lines += [f"note: {n}" for n in report.get("notes") or []]
    return "\n".join(lines)


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
