"""A decision printed the way an analyst reads it: verdict, scores, then the reasons."""

import typer

from txguard.scoring.decision import DecisionResult

_COLOURS = {"approve": "green", "review": "yellow", "block": "red"}


def print_decision(result: DecisionResult) -> None:
    """The decision, its scores and its explanation, indented under a header line."""
    decision = result.decision.value
    probability = "n/a" if result.fraud_probability is None else f"{result.fraud_probability:.3f}"
    anomaly = "n/a" if result.anomaly_score is None else f"{result.anomaly_score:.3f}"
    typer.echo("")
    typer.secho(
        f"transaction {result.transaction_id}: {decision.upper()}  risk {result.risk_score}/100  "
        f"fraud probability {probability}  anomaly {anomaly}",
        fg=_COLOURS[decision],
    )
    explanation = result.explanation or {}
    for factor in explanation.get("risk_factors", []):
        typer.echo(f"  + {factor}")
    for factor in explanation.get("protective_factors", [])[:3]:
        typer.echo(f"  - {factor}")
    if explanation:
        typer.echo(f"  confidence {explanation['confidence']}: {explanation['recommendation']}")
