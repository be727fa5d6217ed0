"""Detection quality on the handbook's data: ``txguard backtest --json``, as a user runs it.

One test week (train 2018-07-25..31, test 08-08..14) and the four prequential test weeks
(each trained on the week ending 8 days before it), label delay 7 days, features computed
online by the replay inside the backtest. Prints the model's, the rules' and the anomaly
score's AUC ROC, Average Precision and CP@100 beside the handbook's best published figures,
and the policy in money. Usage: ``python bench/detection_quality.py`` (about 10 minutes).
Generates ``bench/out/handbook.parquet`` first if it is missing.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "out" / "handbook.parquet"
HANDBOOK = "--customers 5000 --terminals 10000 --days 183 --start-date 2018-04-01 --seed 0".split()
TARGET = {"auc_roc": 0.89, "average_precision": 0.72, "card_precision_at_k": 0.30}
PUBLISHED = {"one week": (0.871, 0.658, 0.291), "four weeks": (0.879, 0.687, 0.305)}
VARIANTS = ("model", "rules_only", "anomaly_only")
METRICS = ("auc_roc", "average_precision", "card_precision_at_k")


def txguard() -> str:
    return os.path.relpath(Path(sys.executable).parent / "txguard")


def ensure_data() -> None:
    if not DATA.exists():
        DATA.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([txguard(), "simulate", *HANDBOOK, "--out", str(DATA)], check=True)


def backtest(test_start: date) -> tuple[list[str], dict[str, Any], float]:
    """One backtest: the command, its JSON report and its wall seconds."""
    train_end = test_start - timedelta(days=8)
    command = [
        txguard(), "backtest", "--data", os.path.relpath(DATA),
        "--train-start", str(train_end - timedelta(days=6)), "--train-end", str(train_end),
        "--test-start", str(test_start), "--test-end", str(test_start + timedelta(days=6)),
        "--label-delay-days", "7", "--json",
    ]  # fmt: skip
    started = time.perf_counter()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return command, json.loads(output), time.perf_counter() - started


def row(name: str, report: dict[str, Any], key: str = "metrics") -> list[float | None]:
    metrics = report[name].get(key) or {}
    return [metrics.get(m) for m in METRICS]


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> int:
    ensure_data()
    weeks = [date(2018, 8, 8) + timedelta(days=7 * i) for i in range(4)]
    reports = []
    for start in weeks:
        command, report, seconds = backtest(start)
        reports.append(report)
        print(f"$ {' '.join(command)}  # {seconds:.0f} s")
    print("\n| test week | variant | AUC ROC | AP | CP@100 | alerts/day | precision | net |")
    print("|---|---|---|---|---|---|---|---|")
    for start, report in zip(weeks, reports, strict=True):
        for name in VARIANTS:
            policy = report[name].get("policy", {})
            values = " | ".join(fmt(v) for v in row(name, report))
            print(
                f"| {start} | {name} | {values} | {policy.get('alerts_per_day', 0):.1f} | "
                f"{fmt(policy.get('precision'))} | {policy.get('net', 0):,.0f} |"
            )
    print("\nthe model with the handbook's known-card rule (blocked once the label is in):")
    for start, report in zip(weeks, reports, strict=True):
        print(
            f"  {start}: "
            + ", ".join(fmt(v) for v in row("model", report, "metrics_handbook_rule"))
        )
    for key in ("metrics", "metrics_handbook_rule"):
        summarise(reports, key)
    first = row("model", reports[0])
    missed = [m for m, v in zip(METRICS, first, strict=True) if v is None or v < TARGET[m]]
    print(f"\npublished best (AUC, AP, CP@100): {PUBLISHED}")
    print("one-week targets met" if not missed else f"one-week targets missed: {missed}")
    return 0 if not missed else 1


def summarise(reports: list[dict[str, Any]], key: str) -> None:
    print(f"\nfour weeks, mean ± standard deviation ({key}):")
    for name in VARIANTS if key == "metrics" else ("model",):
        columns = list(zip(*(row(name, r, key) for r in reports), strict=True))
        shown = []
        for metric, values in zip(METRICS, columns, strict=True):
            known = [v for v in values if v is not None]
            if len(known) == len(values):
                shown.append(
                    f"{metric} {statistics.mean(known):.3f} ± {statistics.stdev(known):.3f}"
                )
        print(f"  {name}: " + ", ".join(shown))


if __name__ == "__main__":
    raise SystemExit(main())
