"""Online feature throughput with state in this process (MemoryStore) and in Redis.

Both stores replay the same simulated history through ``replay_features`` in the same run,
so the ratio shows what sharing state between processes costs. Reference, same run: a bare
redis-py PING, since each transaction makes two round trips (one read, one write) and a
label one more. Keys live under a random ``txguard_bench_<hex>:`` prefix, cleared at the end.

    python bench/featurestore_redis.py [--url redis://127.0.0.1:6379/0] [--customers 500 --days 55]
"""

import argparse
import os
import platform
import shlex
import sys
import time
import uuid
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import redis

from txguard.features.batch import time_order
from txguard.features.online import OnlineFeatures
from txguard.features.replay import replay_features
from txguard.features.state import MemoryStore, StateStore
from txguard.featurestore.redis_store import RedisStore
from txguard.simulation import SimulationParams, simulate

URL = os.environ.get("TXGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def history(customers: int, days: int) -> pd.DataFrame:
    """A simulated history in the feature frame layout, in processing order.

    As many terminals per customer as the handbook (two), so a terminal sees about one
    transaction a day and a card two, as in the handbook's data.
    """
    params = SimulationParams(
        customers=customers, terminals=2 * customers, days=days, start_date=date(2018, 4, 1)
    )
    simulated = simulate(params)
    frame = pd.DataFrame(
        {
            "transaction_id": simulated["TRANSACTION_ID"].astype(str),
            "time_ms": simulated["TX_DATETIME"].astype("datetime64[ms]").astype(np.int64),
            "amount": simulated["TX_AMOUNT"].astype(np.float64),
            "card": simulated["CUSTOMER_ID"].astype(str).astype(object),
            "terminal": simulated["TERMINAL_ID"].astype(str).astype(object),
            "is_fraud": simulated["TX_FRAUD"].astype(np.float64),
        }
    )
    return frame.iloc[time_order(frame["time_ms"])].reset_index(drop=True)


def timed_replay(frame: pd.DataFrame, store: StateStore) -> tuple[pd.DataFrame, float]:
    """The online features of ``frame`` and the wall seconds they took."""
    started = time.perf_counter()
    features = replay_features(frame, OnlineFeatures(store))
    return features, time.perf_counter() - started


def ping_microseconds(client: redis.Redis, count: int = 5_000) -> float:
    """The median round trip of a PING through redis-py: the floor of any store call."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append(time.perf_counter() - started)
    return float(np.median(samples)) * 1e6


def machine(client: redis.Redis, url: str) -> str:
    """Cores, CPU, Python, redis-py and the Redis server, for the results table."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    server = client.info("server")
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"redis-py {redis.__version__}, Redis {server['redis_version']} at {url}"
    )


def measure(frame: pd.DataFrame, url: str) -> dict[str, Any]:
    """Both replays, the reference and the machine, leaving nothing behind in Redis."""
    memory = MemoryStore()
    shared = RedisStore.from_url(url, namespace=f"txguard_bench_{uuid.uuid4().hex[:12]}:")
    try:
        memory_features, memory_seconds = timed_replay(frame, memory)
        redis_features, redis_seconds = timed_replay(frame, shared)
        return {
            "memory": memory_seconds,
            "redis": redis_seconds,
            "identical": memory_features.equals(redis_features),
            "events": f"{shared.size():,} in Redis, {memory.size():,} in memory",
            "ping": ping_microseconds(shared.client),
            "machine": machine(shared.client, url),
        }
    finally:
        shared.clear()
        shared.client.close()


def report(frame: pd.DataFrame, options: argparse.Namespace, found: dict[str, Any]) -> None:
    """The figures for bench/RESULTS.md, one per line."""
    rows, frauds = len(frame), int(frame["is_fraud"].sum())
    memory, shared = found["memory"], found["redis"]
    command = [os.path.relpath(sys.executable), *sys.argv]
    lines = {
        "command": shlex.join(command),
        "machine": found["machine"],
        "history": f"{rows:,} transactions ({frauds:,} frauds), {options.customers:,} cards, "
        f"{2 * options.customers:,} terminals, {options.days} days",
        "memory": f"{memory:.2f} s, {rows / memory:,.0f} tx/s, {memory / rows * 1e6:.0f} us/tx",
        "redis": f"{shared:.2f} s, {rows / shared:,.0f} tx/s, {shared / rows * 1e6:.0f} us/tx",
        "ratio": f"redis takes {shared / memory:.1f} x the time of memory",
        "reference": f"redis-py PING round trip {found['ping']:.0f} us (median of 5,000)",
        "state": f"{found['events']} at the end; features identical: {found['identical']}",
    }
    for name, value in lines.items():
        print(f"{name:>10}: {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=URL)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--days", type=int, default=55)
    options = parser.parse_args()
    frame = history(options.customers, options.days)
    found = measure(frame, options.url)
    report(frame, options, found)
    return 0 if found["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
