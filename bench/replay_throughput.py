"""Replay speed and feature-state memory on the handbook's 1.75 million transactions.

1. ``txguard replay`` as a user runs it (train a model, activate it, replay the whole file
   scoring its last week, 2018-09-24..30), wall time of the whole command (file reading
   included), transactions per second.
2. In process, one core: the replay service with the file already loaded, scoring that week
   and scoring every transaction; the same-run reference is a bare loop that builds each
   transaction and does nothing else.
3. Memory of the in-process feature state (5,000 cards, 10,000 terminals) after 60, 120 and
   183 days: it must stay flat once the longest window (35 days) is full.
Usage: ``python bench/replay_throughput.py`` (about 5 minutes).
"""

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from txguard.features.definitions import FeatureConfig
from txguard.features.online import OnlineFeatures
from txguard.features.replay import DelayedLabels
from txguard.features.state import MemoryStore
from txguard.models.training import TrainingOptions
from txguard.rules import DEFAULT_RULES, RuleSet
from txguard.scoring.history import load_history
from txguard.scoring.pipeline import ScoringPipeline
from txguard.scoring.replay import feature_input, replay, transactions
from txguard.scoring.trainer import train

DATA = Path(__file__).parent / "out" / "handbook.parquet"
WEEK = (date(2018, 9, 24), date(2018, 9, 30))
"""The file's last week: scoring it replays every transaction of the file."""


def cli_replay() -> None:
    txguard = os.path.relpath(Path(sys.executable).parent / "txguard")
    data = os.path.relpath(DATA)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TXGUARD_DATA_DIR": home}
        run = [
            [txguard, "migrate"],
            [txguard, "train", "--data", data, "--train-start", "2018-07-25",
             "--train-end", "2018-07-31", "--activate"],
        ]  # fmt: skip
        for command in run:
            subprocess.run(command, check=True, env=env, capture_output=True)
        command = [txguard, "replay", "--data", data, "--score-start", str(WEEK[0]),
                   "--score-end", str(WEEK[1]), "--out", f"{home}/scores.csv"]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        seconds = time.perf_counter() - started
    print(f"$ {' '.join(command)}")
    print(f"  whole command: {seconds:.1f} s, {1_795_065 / seconds:,.0f} transactions/s")


def in_process() -> None:
    history = load_history(DATA)
    rows = len(history.frame)
    bundle = train(history, date(2018, 7, 25), date(2018, 7, 31), label_delay_days=7,
                   options=TrainingOptions())  # fmt: skip
    pipeline = ScoringPipeline(
        OnlineFeatures(MemoryStore(), FeatureConfig()), RuleSet(DEFAULT_RULES), bundle
    )
    started = time.perf_counter()
    for _ in transactions(history, 0, rows):
        pass
    bare = time.perf_counter() - started
    print(f"  reference, bare loop building each transaction: {bare:.1f} s")
    first, last = history.span()
    for label, window in (("scoring one week", WEEK), ("scoring every transaction", (first, last))):
        started = time.perf_counter()
        replay(history, pipeline, *window)
        seconds = time.perf_counter() - started
        print(
            f"  replay service, {label}: {seconds:.1f} s, {rows / seconds:,.0f} transactions/s, "
            f"ratio to reference {seconds / bare:.1f}"
        )
    memory(history)


def memory(history) -> None:  # type: ignore[no-untyped-def]
    store = MemoryStore()
    engine = OnlineFeatures(store, FeatureConfig())
    labels = DelayedLabels(7 * 86_400_000)
    start = int(history.frame["time_ms"].iloc[0])
    marks = [60, 120, 183]
    for row in transactions(history, 0, len(history.frame)):
        tx = row.tx
        labels.release(tx.time_ms, engine)
        engine.process(feature_input(tx))
        labels.add(tx.transaction_id, tx.terminal_id, tx.time_ms, row.fraud)
        if marks and tx.time_ms - start >= marks[0] * 86_400_000:
            mib = store.memory_bytes() / 2**20
            print(f"  state after {marks.pop(0)} days: {store.size():,} events, {mib:.0f} MiB")
    mib = store.memory_bytes() / 2**20
    print(f"  state at the end: {store.size():,} events, {mib:.0f} MiB")


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    cli_replay()
    in_process()


if __name__ == "__main__":
    main()
