"""Time ``txguard simulate`` at the handbook's size and check its figures against the handbook.

Runs the command in a subprocess, as a user would, so the wall time includes start-up and
the peak memory is that of the command alone. Usage: ``python bench/simulate.py``.
The output file stays in ``bench/out/`` for the import benchmark.
"""

import hashlib
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

OUT = Path(__file__).parent / "out" / "handbook.parquet"
HANDBOOK = "--customers 5000 --terminals 10000 --days 183 --start-date 2018-04-01 --seed 0".split()
# Bounds around the handbook's published figures (SIMULATOR.md) and the budget of one laptop.
BOUNDS = {
    "rows": (1_600_000, 1_900_000),
    "fraud share": (0.007, 0.010),
    "seconds": (0, 60),
    "peak MiB": (0, 2048),
}


def run() -> tuple[list[str], float, float]:
    """The command, its wall seconds and its peak resident memory in MiB."""
    txguard = Path(sys.executable).parent / "txguard"
    command = [os.path.relpath(txguard), "simulate", *HANDBOOK, "--out", os.path.relpath(OUT)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return command, seconds, peak_mib


def reference_seconds() -> float:
    """Same-run reference: ``txguard --version``, the interpreter and CLI start-up alone."""
    txguard = Path(sys.executable).parent / "txguard"
    started = time.perf_counter()
    subprocess.run([str(txguard), "--version"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def figures(frame: pd.DataFrame) -> dict[str, str]:
    """The numbers to compare with SIMULATOR.md: 1.75 M rows, 0.84 % fraud, 9,600 and 80 a day."""
    days = frame["TX_TIME_DAYS"].nunique()
    frauds = int(frame["TX_FRAUD"].sum())
    scenarios = frame["TX_FRAUD_SCENARIO"].value_counts()
    return {
        "rows": f"{len(frame):,}",
        "frauds": f"{frauds:,} ({frauds / len(frame):.3%})",
        "by scenario": ", ".join(f"{s}: {scenarios.get(s, 0):,}" for s in (1, 2, 3)),
        "per day": f"{len(frame) / days:,.0f} transactions, {frauds / days:.1f} frauds",
        "file": f"{OUT.stat().st_size / 2**20:.1f} MiB, sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()[:16]}",
    }


def out_of_bounds(measured: dict[str, float]) -> list[str]:
    """The measurements outside their bounds, as readable lines."""
    return [
        f"{name} = {measured[name]:,.4g} outside [{low:,}, {high:,}]"
        for name, (low, high) in BOUNDS.items()
        if not low <= measured[name] <= high
    ]


def main() -> int:
    command, seconds, peak_mib = run()
    frame = pd.read_parquet(OUT)
    for name, value in figures(frame).items():
        print(f"{name:>12}: {value}")
    reference = reference_seconds()
    print(f"{'wall':>12}: {seconds:.1f} s")
    print(
        f"{'reference':>12}: {reference:.2f} s for `txguard --version`; ratio {seconds / reference:.1f}"
    )
    print(f"{'peak RSS':>12}: {peak_mib:.0f} MiB")
    print(f"{'reproduce':>12}: {shlex.join(command)}")
    measured = {
        "rows": len(frame),
        "fraud share": frame["TX_FRAUD"].mean(),
        "seconds": seconds,
        "peak MiB": peak_mib,
    }
    problems = out_of_bounds(measured)
    for problem in problems:
        print(f"OUT OF BOUNDS: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
