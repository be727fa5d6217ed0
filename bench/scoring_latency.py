"""One transaction through features + rules + model (+ explanation), in-process.

Trains on the handbook's week 2018-07-25..31, warms the feature state by replaying the file
up to 2018-08-07, then scores the transactions of 2018-08-08 one at a time with
``ScoringPipeline.score``: the first half without an explanation, the second half with
one (alternating would let each explanation evict the next call's data from the caches). The reference,
measured in the same run, is the raw LightGBM ``Booster.predict`` on a 1-row array.
Usage: ``python bench/scoring_latency.py``.
"""

import platform
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from txguard.domain.transactions import Transaction
from txguard.features.definitions import FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.state import MemoryStore
from txguard.models.training import TrainingOptions
from txguard.rules import DEFAULT_RULES, RuleSet
from txguard.scoring.history import load_history
from txguard.scoring.pipeline import ScoringPipeline
from txguard.scoring.replay import replay_decisions
from txguard.scoring.trainer import train

DATA = Path(__file__).parent / "out" / "handbook.parquet"
CALLS = 4000


def transactions(frame, day: date) -> list[Transaction]:  # type: ignore[no-untyped-def]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lo = int(start.timestamp() * 1000)
    part = frame[(frame["time_ms"] >= lo) & (frame["time_ms"] < lo + 86_400_000)]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        Transaction(r.transaction_id, epoch + timedelta(milliseconds=r.time_ms), r.amount,
                    card_token=r.card, terminal_id=r.terminal)
        for r in part.itertuples()
    ]  # fmt: skip


def micros(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.1f} µs, p99 {np.percentile(samples, 99):.1f} µs"


def main() -> None:
    history = load_history(DATA)
    bundle = train(history, date(2018, 7, 25), date(2018, 7, 31), label_delay_days=7,
                   options=TrainingOptions())  # fmt: skip
    pipeline = ScoringPipeline(OnlineFeatures(MemoryStore(), FeatureConfig()),
                               RuleSet(DEFAULT_RULES), bundle)  # fmt: skip
    replay_decisions(history, pipeline, date(2018, 8, 7), date(2018, 8, 7))
    txs = transactions(history.frame, date(2018, 8, 8))[:CALLS]
    plain: list[float] = []
    explained: list[float] = []
    for i, tx in enumerate(txs):
        explain = i >= len(txs) // 2
        started = time.perf_counter_ns()
        pipeline.score(tx, explain=explain)
        (explained if explain else plain).append((time.perf_counter_ns() - started) / 1000)
    if bundle.fraud is None:
        raise SystemExit("the handbook week has frauds; training must give a fraud model")
    row = np.random.default_rng(0).random((1, len(bundle.feature_names)))
    reference = []
    for _ in range(CALLS):
        started = time.perf_counter_ns()
        bundle.fraud.booster.predict(row, raw_score=True, num_threads=1)
        reference.append((time.perf_counter_ns() - started) / 1000)
    trees = bundle.fraud.booster.num_trees()
    print("command: .venv/bin/python bench/scoring_latency.py")
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"model: {trees} trees, {len(bundle.feature_names)} features")
    print(f"score, no explanation ({len(plain)} calls): {micros(plain)}")
    print(f"score, with explanation ({len(explained)} calls): {micros(explained)}")
    print(f"reference, raw Booster.predict 1 row: {micros(reference)}")
    ratio = statistics.median(plain) / statistics.median(reference)
    print(f"ratio score / raw predict: {ratio:.1f}")


if __name__ == "__main__":
    main()
