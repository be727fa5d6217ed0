"""Import benchmark: the handbook-sized simulated file into a fresh PostgreSQL database.

Reference, same run, same machine: a bare PostgreSQL COPY of the same rows (already in
memory, as text) into an unindexed table with the same columns, so the ratio shows what the
import adds on top of the database's own bulk path (validation, tokenisation, indexes,
idempotence).

    python bench/import_postgres.py [--data bench/out/handbook.parquet]
"""

import argparse
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psycopg

SERVER = os.environ.get("TXGUARD_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
HANDBOOK = Path("bench/out/handbook.parquet")
TXGUARD = str(Path(sys.executable).parent / "txguard")
SIMULATE = [
    TXGUARD,
    "simulate",
    "--customers",
    "5000",
    "--terminals",
    "10000",
    "--days",
    "183",
    "--start-date",
    "2018-04-01",
    "--seed",
    "0",
    "--out",
    str(HANDBOOK),
]


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def _database_url(name: str, driver: str = "postgresql+psycopg") -> str:
    return SERVER.replace("postgresql", driver, 1).rsplit("/", 1)[0] + f"/{name}"


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _reference_copy(data: Path, name: str) -> float:
    frame = pd.read_parquet(data)
    text = frame.to_csv(index=False, header=False)
    with psycopg.connect(_database_url(name, "postgresql")) as connection:
        connection.execute(
            "CREATE TABLE ref (id bigint, at timestamp, customer bigint, terminal bigint, amount numeric,"
            " secs bigint, days bigint, fraud smallint, scenario smallint)"
        )
        started = time.perf_counter()
        with connection.cursor().copy("COPY ref FROM STDIN (FORMAT csv)") as copy:
            copy.write(io.StringIO(text).read())
        connection.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HANDBOOK)
    args = parser.parse_args()
    if not args.data.exists():
        subprocess.run(SIMULATE, check=True)
    rows = pd.read_parquet(args.data, columns=["TRANSACTION_ID"]).shape[0]
    name = f"txguard_bench_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "TXGUARD_DATABASE_URL": _database_url(name)}
        subprocess.run([TXGUARD, "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
        first = _timed([TXGUARD, "import", "--data", str(args.data)], env)
        second = _timed([TXGUARD, "import", "--data", str(args.data)], env)
        reference = _reference_copy(args.data, name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"command: python bench/import_postgres.py --data {args.data}")
    print(f"rows: {rows:,}")
    print(f"txguard import, empty database: {first:.1f} s ({rows / first:,.0f} rows/s)")
    print(f"txguard import, same file again (adds nothing): {second:.1f} s")
    print(
        f"reference bare COPY of the same rows: {reference:.1f} s; ratio import/reference = {first / reference:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
