"""The scoring API under load: `txguard serve` on SQLite and PostgreSQL, 1 and 2 workers.

Every server is started and stopped here, on 127.0.0.1 only, each phase on its own copy of
a throwaway database (a SQLite file copied, a PostgreSQL database created from a template;
all dropped at the end) and, for the shared-state runs, its own Redis namespace (deleted at
the end). Reference, same run, same machine, same uvicorn options:
``bench/reference_app.py``, a minimal FastAPI endpoint that parses the same body with a
pydantic model and returns a small JSON document.

Traffic as a bank sends it: mostly known cards with a history. One simulation (3,000
customers, 6,000 terminals, 70 days) is the model's population and the stream's: the model
is trained on two weeks of it, the days before the stream are imported (``txguard import``)
into the database, and the stream is the 14 days after them, in time order. A 1-worker
server rebuilds its in-memory feature state from the imported history when it starts; a
Redis-backed server finds its namespace empty and seeds it from the same history (one
worker does, the other waits for it), which is counted in its start-up time. Each request is a NEW transaction (unique id, so nothing is answered
as a retry). A phase that needs more than the stream goes round again with every time
shifted by the stream's length in whole days: the cards' histories then continue in time
order, each window (at most 35 days back) seeing activity as dense as in the real days.

- Throughput: ``wrk`` (closed loop, 1 thread, 64 connections, a Lua script that builds every
  body), after a short warm-up, in short rounds that alternate with the reference (both
  servers are up; the idle one costs nothing), so a change in the load other processes put
  on a shared machine hits both sides of the ratio alike. The CPU used outside this
  benchmark's processes during each round is measured and reported ("foreign load").
- Latency at a constant rate: an open-loop generator in this process (asyncio on uvloop, raw
  keep-alive HTTP/1.1 connections) that sends on a fixed schedule and measures each latency
  from the scheduled send time, so a stalled server cannot hide its queue (no coordinated
  omission).
- Batch: ``POST /api/v1/predict/batch`` with 1,000 new transactions, wall time at the client.
- Storage: rows in ``card_transaction`` per id prefix against requests answered 200 and sent,
  and their decisions by outcome (the flagged share).
- Security: every request carries a SERVICE API key and is counted against a rate limit set
  out of reach; the cost of both checks is also timed in this process.

On a machine with 2 or more CPUs the 1-worker server is pinned to CPU 0 and the generators to
the last CPU; 2-worker servers may use CPUs 0 and 1 (the generator shares one of them).

    python bench/api_load.py [--quick] [--only sqlite-1w,pg-1w,...]

Needs ``wrk`` on the PATH (Debian: ``apt-get install wrk``), PostgreSQL and Redis.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import redis
import sqlalchemy as sa
import uvloop

from txguard.domain.enums import Role
from txguard.security.accounts import writing
from txguard.security.api_keys import IssuedKey, generate
from txguard.security.identity import IdentityService
from txguard.security.rate_limits import RateLimiter
from txguard.settings import Settings
from txguard.store import identity as identity_store

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
BIN = Path(sys.executable).parent
TXGUARD = str(BIN / "txguard")
POSTGRES = os.environ.get("TXGUARD_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("TXGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CONNECTIONS = 64
BATCH = 1000
START_TIMEOUT_S = 180.0  # a 1-worker server first rebuilds its feature state from the history
BACKLOG_S = 2.0  # the constant-rate run stops once the server is this far behind
SIMULATION = ["--customers", "3000", "--terminals", "6000", "--days", "70",
              "--start-date", "2018-04-01", "--seed", "0"]  # fmt: skip
TRAIN_DAYS = ["--train-start", "2018-05-13", "--train-end", "2018-05-26"]
STREAM_START = "2018-05-27"  # the day after training: history before it, the stream from it
LABEL_DELAY_DAYS = 7  # the settings' default, as in `txguard import` and `txguard train`

# One wrk thread: every request is the next transaction of the stream (unique id, the card
# and terminal the simulation gave it), and every status is counted. Globals, so `done` can
# read them.
WRK_LUA = r"""
local secs, cards, terms, amounts = {}, {}, {}, {}
local nrows = 0
local threads = {}
sent, ok, server_errors, other = 0, 0, 0, 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local sec, card, term, amount = line:match("^(%d+),([^,]+),([^,]+),([^,]+)$")
    nrows = nrows + 1
    secs[nrows], cards[nrows], terms[nrows], amounts[nrows] = tonumber(sec), card, term, amount
  end
  prefix, first, span, step = args[2], tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-Key"] = args[6]
end

function request()
  local n = first + tid + step * sent
  sent = sent + 1
  local i = n % nrows + 1
  local t = secs[i] + span * math.floor(n / nrows)
  local body = string.format(
    '{"transaction_id":"%s%d","amount":%s,"timestamp":"%s","card_id":"%s","terminal_id":"%s"}',
    prefix, n, amounts[i], os.date("!%Y-%m-%dT%H:%M:%SZ", t), cards[i], terms[i])
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status >= 500 then
    server_errors = server_errors + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local s, o, e, x = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    s = s + thread:get("sent")
    o = o + thread:get("ok")
    e = e + thread:get("server_errors")
    x = x + thread:get("other")
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT sent=%d ok=%d e5xx=%d other=%d requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    s, o, e, x, summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Durations:
    warm_s: int  # wrk against a fresh server before anything is measured
    round_s: int  # one wrk window; the reference and txguard alternate
    rounds: int
    open_s: int  # the constant-rate run
    batches: int
    settle_s: int  # longest wait, before a phase, for other processes to quieten


FULL = Durations(warm_s=3, round_s=4, rounds=3, open_s=60, batches=10, settle_s=10)
QUICK = Durations(warm_s=1, round_s=2, rounds=1, open_s=5, batches=3, settle_s=0)


@dataclass(frozen=True)
class Phase:
    """One txguard server under test and what is measured on it."""

    name: str
    database: str  # "sqlite" or "postgresql"
    workers: int
    redis: bool
    constant_rate: bool
    batches: bool
    label: str


PHASES = (
    Phase("sqlite-1w", "sqlite", 1, False, True, True, "txguard SQLite, 1 worker"),
    Phase("pg-1w", "postgresql", 1, False, True, True, "txguard PostgreSQL, 1 worker"),
    Phase("pg-1w-redis", "postgresql", 1, True, False, False, "txguard PostgreSQL + Redis, 1 worker"),
    Phase("pg-2w-redis", "postgresql", 2, True, False, False, "txguard PostgreSQL + Redis, 2 workers"),
    Phase("sqlite-2w-redis", "sqlite", 2, True, False, False, "txguard SQLite + Redis, 2 workers"),
)  # fmt: skip


@dataclass
class Stream:
    """The simulated transactions, in time order, as the bodies' text pieces."""

    path: Path
    secs: list[int] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    terminals: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    span: int = 0  # seconds added to every timestamp each time the stream is reused

    def body(self, prefix: str, n: int) -> bytes:
        """The JSON body of transaction ``n`` exactly as the Lua script writes it."""
        i = n % len(self.secs)
        t = self.secs[i] + self.span * (n // len(self.secs))
        stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f'{{"transaction_id":"{prefix}{n}","amount":{self.amounts[i]},"timestamp":"{stamp}",'
            f'"card_id":"{self.cards[i]}","terminal_id":"{self.terminals[i]}"}}'
        ).encode()


@dataclass
class Setup:
    work: Path
    run: str
    stream: Stream
    lua: Path
    token_key: str
    api_key: IssuedKey
    pg_template: str  # the prepared PostgreSQL database; each phase gets a copy of it
    server_cpus: str
    durations: Durations
    rate: int
    pg_databases: list[str] = field(default_factory=list)  # created by this run, all dropped
    redis_namespaces: list[str] = field(default_factory=list)  # written by this run, deleted
    security: dict[str, float] = field(default_factory=dict)
    setup_s: dict[str, float] = field(default_factory=dict)
    history_rows: int = 0
    nice: int = 0
    ref_index: int = 0
    results: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    memory = ""
    with contextlib.suppress(OSError, StopIteration, ValueError), open("/proc/meminfo") as info:
        kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
        memory = f", {kib / 2**20:.0f} GiB RAM"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools")
    )
    try:
        with psycopg.connect(POSTGRES, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            postgres = f"PostgreSQL {row[0] if row else '?'}"
    except psycopg.Error as exc:
        postgres = f"PostgreSQL unavailable ({exc})"
    try:
        client = redis.Redis.from_url(REDIS, socket_timeout=5)
        redis_version = f"Redis {client.info('server')['redis_version']}"
        client.close()
    except redis.RedisError as exc:
        redis_version = f"Redis unavailable ({exc})"
    git = ["git", "-C", str(BENCH.parent)]
    head = subprocess.run([*git, "log", "-1", "--format=%h %cI"], capture_output=True, text=True,
                          check=False).stdout.strip()  # fmt: skip
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True, check=False).stdout.split("\n")  # fmt: skip
    changed = [line[3:] for line in dirty if line.strip()]
    return {
        "code": f"commit {head or '?'}"
        + (f", uncommitted changes in {', '.join(changed)}" if changed else ", src/ clean"),
        "platform": platform.platform(),
        "cpu": f"{os.cpu_count()} CPUs ({cpu}){memory}",
        "python": f"Python {platform.python_version()}, {versions}",
        "tools": f"{' '.join(wrk.split()[:2]) if wrk else 'wrk ?'}; {postgres}; {redis_version}",
    }


_TICK = os.sysconf("SC_CLK_TCK")


def _system_jiffies() -> tuple[int, int]:
    """CPU time used by everything on the machine, and the part stolen by the hypervisor."""
    with open("/proc/stat") as stat:
        v = [int(x) for x in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq + steal, steal


def _tree_jiffies(root: int) -> int:
    """CPU time (user + system, every thread) of ``root`` and its live descendants."""
    parent: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                rest = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(rest[1])
        used[int(entry)] = int(rest[11]) + int(rest[12])
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(used.get(pid, 0) for pid in tree)


def _own_jiffies() -> int:
    """CPU time of this process, its live descendants (servers) and its reaped children (wrk)."""
    times = os.times()
    return _tree_jiffies(os.getpid()) + round((times.children_user + times.children_system) * _TICK)


@contextlib.contextmanager
def cpu_meter() -> Iterator[dict[str, float]]:
    """Cores busy during the block: ours (servers, generators) and foreign (everything else).

    Foreign includes the PostgreSQL and Redis servers, which work for us in their phases;
    in the other phases it is the load other people put on this shared machine.
    """
    found: dict[str, float] = {}
    began, (busy0, steal0), own0 = time.perf_counter(), _system_jiffies(), _own_jiffies()
    yield found
    elapsed = time.perf_counter() - began
    (busy1, steal1), own1 = _system_jiffies(), _own_jiffies()
    found["ours"] = (own1 - own0) / _TICK / elapsed
    found["foreign"] = max(0.0, (busy1 - busy0 - (own1 - own0)) / _TICK / elapsed)
    found["steal"] = (steal1 - steal0) / _TICK / elapsed


def settle(limit_s: int, quiet: float = 0.25) -> float:
    """Wait (at most ``limit_s``) for other processes to use under ``quiet`` of a core."""
    deadline = time.monotonic() + limit_s
    while True:
        with cpu_meter() as load:
            time.sleep(1.0)
        if load["foreign"] < quiet or time.monotonic() >= deadline:
            return load["foreign"]


# --------------------------------------------------------------------------- setup


def _run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TXGUARD_")}


def _txguard_env(
    setup: Setup, place: str, url: str | None, namespace: str | None
) -> dict[str, str]:
    """The environment of a txguard command or server on one database (and Redis namespace)."""
    env = _clean_env()
    env["TXGUARD_DATA_DIR"] = str(setup.work / place)
    env["TXGUARD_TOKEN_KEY"] = setup.token_key
    # the limit is checked on every request as in production, but set out of the load's reach
    env["TXGUARD_RATE_LIMIT_PER_MINUTE"] = "1000000000"
    if url is not None:
        env["TXGUARD_DATABASE_URL"] = url
    if namespace is not None:
        env["TXGUARD_REDIS_URL"] = REDIS
        env["TXGUARD_REDIS_NAMESPACE"] = namespace
    return env


def _pg_url(name: str) -> str:
    return POSTGRES.replace("postgresql", "postgresql+psycopg", 1).rsplit("/", 1)[0] + f"/{name}"


def _sqlite_url(place: Path) -> str:
    return f"sqlite:///{place / 'txguard.db'}"


def _template_url(setup: Setup, database: str) -> str:
    """The database prepared once (migrated, history imported, model trained, key added)."""
    if database == "postgresql":
        return _pg_url(setup.pg_template)
    return _sqlite_url(setup.work / "sqlite")


def _namespace(setup: Setup, phase: Phase) -> str | None:
    """The phase's own Redis prefix: its feature state and rate-limit counters, nothing else."""
    return f"txguard:bench-{setup.run}-{phase.name}:" if phase.redis else None


def _phase_url(setup: Setup, phase: Phase) -> str:
    if phase.database == "postgresql":
        return _pg_url(f"{setup.pg_template}_{phase.name.replace('-', '_')}")
    return _sqlite_url(setup.work / phase.name)


def _create_pg(setup: Setup, name: str, template: str | None = None) -> None:
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(statement)
    setup.pg_databases.append(name)


def phase_database(setup: Setup, phase: Phase) -> str:
    """A fresh copy of the prepared database for one phase: an earlier phase's stream must
    not be in the history a server rebuilds from (its cards would count every payment twice)."""
    url = _phase_url(setup, phase)
    (setup.work / phase.name).mkdir()  # the phase's data directory
    if phase.database == "postgresql":
        _create_pg(setup, url.rsplit("/", 1)[1], setup.pg_template)
    else:
        shutil.copy(setup.work / "sqlite" / "txguard.db", setup.work / phase.name / "txguard.db")
    return url


def prepare(setup: Setup, phases: list[Phase]) -> None:
    """Simulate the population, then migrate, import its history, train and add the bench's
    API key in each database; keep the stream, and the feature state Redis phases start from."""
    data = setup.work / "simulation.parquet"
    history = setup.work / "history.parquet"
    took = setup.setup_s
    began = time.perf_counter()
    _run([TXGUARD, "simulate", *SIMULATION, "--out", str(data)], _clean_env(), setup.work)
    took["simulate"] = time.perf_counter() - began
    frame = pd.read_parquet(data).sort_values("TX_DATETIME", kind="stable")
    before = frame["TX_DATETIME"] < pd.Timestamp(STREAM_START)
    frame[before].to_parquet(history)
    databases = sorted({p.database for p in phases})
    if "postgresql" in databases:
        _create_pg(setup, setup.pg_template)

    def load(database: str) -> None:
        url = _template_url(setup, database)
        env = _txguard_env(setup, database, url, None)
        (setup.work / database).mkdir(exist_ok=True)
        began = time.perf_counter()
        _run([TXGUARD, "migrate"], env, setup.work)
        _run([TXGUARD, "import", "--data", str(history),
              "--label-delay-days", str(LABEL_DELAY_DAYS)], env, setup.work)  # fmt: skip
        took[f"import {database}"] = time.perf_counter() - began
        began = time.perf_counter()
        _run([TXGUARD, "train", "--data", str(data), *TRAIN_DAYS, "--activate",
              "--label-delay-days", str(LABEL_DELAY_DAYS)], env, setup.work)  # fmt: skip
        took[f"train {database}"] = time.perf_counter() - began
        engine = sa.create_engine(url)
        try:
            writing(engine, lambda session: identity_store.add_api_key(
                session, key_id=setup.api_key.key_id, key_hash=setup.api_key.secret_hash,
                owner="bench-switch", role=Role.SERVICE, expires_at=None, actor="bench"))  # fmt: skip
        finally:
            engine.dispose()

    with ThreadPoolExecutor(2) as pool:
        for job in [pool.submit(load, database) for database in databases]:
            job.result()
    setup.history_rows = int(before.sum())
    stream = setup.stream
    part = frame[~before]
    stream.secs = part["TX_DATETIME"].astype("datetime64[s]").astype(np.int64).tolist()
    stream.cards = [str(c) for c in part["CUSTOMER_ID"].tolist()]  # as `txguard import` reads
    stream.terminals = [str(t) for t in part["TERMINAL_ID"].tolist()]
    stream.amounts = [f"{a:.2f}" for a in part["TX_AMOUNT"].tolist()]
    stream.span = ((stream.secs[-1] - stream.secs[0]) // 86_400 + 1) * 86_400
    with open(stream.path, "w") as out:
        for row in zip(stream.secs, stream.cards, stream.terminals, stream.amounts, strict=True):
            out.write(",".join(map(str, row)) + "\n")
    setup.lua.write_text(WRK_LUA)
    setup.security = security_costs(setup, _template_url(setup, databases[-1]))


def security_costs(setup: Setup, url: str, calls: int = 1000) -> dict[str, float]:
    """Microseconds per call, in this process, of the checks every request passes: the API
    key (parse, cached lookup, secret hash) and one rate-limit count in memory and in Redis.

    Each is timed back to back, and spaced 1 ms apart with this thread holding the GIL in
    between, as a busy server's event loop does: the in-memory counter of ``limits`` starts a
    timer thread when its last one has finished, and waits for it to start.
    """
    engine = sa.create_engine(url)
    settings = Settings(data_dir=setup.work, database_url=url, token_key=setup.token_key)
    in_memory = RateLimiter.in_memory()
    shared = RateLimiter(REDIS, key_prefix=f"txguard:bench-{setup.run}-security:limits")
    setup.redis_namespaces.append(f"txguard:bench-{setup.run}-security:")
    identity = IdentityService(engine, settings, in_memory)

    def per_call(check: Callable[[], object], gap_s: float) -> float:
        check()  # a first call fills the key cache and opens connections
        spent = 0.0
        for _ in range(calls):
            began = time.perf_counter()
            check()
            done = time.perf_counter()
            spent += done - began
            while time.perf_counter() < done + gap_s:
                pass
        return spent / calls * 1e6

    checks: dict[str, Callable[[], object]] = {
        "api_key": lambda: identity.principal_from_api_key(setup.api_key.raw),
        "limit_memory": lambda: in_memory.hit("caller", "key:bench", 10**9),
        "limit_redis": lambda: shared.hit("caller", "key:bench", 10**9),
    }
    try:
        return {
            f"{name}{suffix}_us": per_call(check, gap_s)
            for name, check in checks.items()
            for suffix, gap_s in (("", 0.0), ("_spaced", 0.001))
        }
    finally:
        identity.close()
        engine.dispose()


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class Running:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time of the server and its worker processes so far."""
        return _tree_jiffies(self.pid) / _TICK


@contextlib.contextmanager
def server(
    setup: Setup, name: str, command: list[str], env: dict[str, str], workers: int
) -> Iterator[Running]:
    """Start a server (pinned to the server CPU when it has 1 worker), wait for its health
    route, and stop it at the end whatever happens."""
    port = free_port()
    command = [*command, "--host", HOST, "--port", str(port), "--workers", str(workers)]
    cpus = setup.server_cpus if workers == 1 else ",".join(map(str, range(os.cpu_count() or 1)))
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    log_path = setup.work / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=setup.work, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if _get(port, "/api/v1/health")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        yield Running(port, process.pid)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the session this script started
                process.wait(10)
        lines = log_path.read_text().splitlines()
        problems = [i for i, line in enumerate(lines)
                    if "Traceback" in line or "error" in line.lower()]  # fmt: skip
        if problems:
            first = problems[0]
            excerpt = "\n    ".join(lines[first : first + 40])
            print(
                f"  server log {log_path.name}: {len(problems)} error lines; the first:\n    {excerpt}"
            )
            (OUT / "logs").mkdir(parents=True, exist_ok=True)
            shutil.copy(log_path, OUT / "logs" / log_path.name)


def reference_server(setup: Setup, workers: int) -> contextlib.AbstractContextManager[Running]:
    return server(setup, f"reference-{workers}w", [sys.executable, str(BENCH / "reference_app.py")],
                  _clean_env(), workers)  # fmt: skip


def txguard_server(
    setup: Setup, phase: Phase, url: str
) -> contextlib.AbstractContextManager[Running]:
    env = _txguard_env(setup, phase.name, url, _namespace(setup, phase))
    return server(setup, phase.name, [TXGUARD, "serve"], env, phase.workers)


# --------------------------------------------------------------------------- load


def run_wrk(setup: Setup, target: Running, prefix: str, first: int, seconds: int) -> dict[str, Any]:
    """wrk for ``seconds``: counts, the rate of 200s, wrk's own (closed-loop) latency, and
    the CPU time the server spent: requests per server CPU-second do not depend on how much
    of its core other processes took."""
    port = target.port
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
               "-s", str(setup.lua), f"http://{HOST}:{port}/api/v1/predict",
               "--", str(setup.stream.path), prefix, str(first), str(setup.stream.span), "1",
               setup.api_key.raw]  # fmt: skip
    before, server_before = os.times(), target.cpu_seconds()
    with cpu_meter() as load:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=seconds + 120
        )
    after, server_after = os.times(), target.cpu_seconds()
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    found: dict[str, Any] = {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
    seconds_run = found["duration_us"] / 1e6
    found["rate"] = found["ok"] / seconds_run
    found["socket_errors"] = sum(found[k] for k in ("connect", "read", "write", "timeout"))
    wrk_cpu = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    found["wrk_cores"] = wrk_cpu / seconds_run
    found["server_cores"] = (server_after - server_before) / seconds_run
    found["per_cpu_s"] = found["ok"] / max(server_after - server_before, 1e-9)
    found["load"] = load
    return found


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("no content-length")


async def _open_loop(port: int, payloads: list[bytes], rate: float) -> dict[str, Any]:
    """Send ``payloads`` on a fixed schedule; each latency counts from its scheduled time.

    A request waits for a free connection (64, used in turn) if all are busy, and that wait
    counts. If the server falls more than ``BACKLOG_S`` seconds of traffic behind, sending
    stops (the server is saturated, the percentiles would only measure the queue): requests
    still waiting for a connection are never sent, those in flight are awaited.
    """
    n = len(payloads)
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        idle.put_nowait(await asyncio.open_connection(HOST, port))
    latency = np.full(n, np.nan)
    service = np.full(n, np.nan)
    lag = np.full(n, np.nan)
    finished = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int64)
    started = np.zeros(n, dtype=bool)
    completed = 0

    async def one(i: int, when: float) -> None:
        nonlocal completed
        reader, writer = await idle.get()  # FIFO: every connection stays in use
        started[i] = True
        sent = time.perf_counter()
        code = -1
        try:
            writer.write(payloads[i])
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
            code = int(head[9:12])
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, port)
        end = time.perf_counter()
        idle.put_nowait((reader, writer))
        completed += 1
        status[i], finished[i] = code, end
        latency[i], service[i], lag[i] = end - when, end - sent, sent - when

    start = time.perf_counter() + 0.05
    tasks = []
    saturated_at = None
    for i in range(n):
        when = start + i / rate
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) - completed > BACKLOG_S * rate:
            saturated_at = when - start
            break
        tasks.append(asyncio.create_task(one(i, when)))
    waiting = [task for i, task in enumerate(tasks) if not started[i]]
    for task in waiting:
        task.cancel()
    _, pending = await asyncio.wait(tasks, timeout=30.0)
    for task in pending:
        task.cancel()
    while not idle.empty():
        idle.get_nowait()[1].close()
    done = ~np.isnan(latency)
    ms = latency[done] * 1000 if done.any() else np.array([np.nan])
    answered = status == 200
    last = float(np.nanmax(finished)) if done.any() else start + 1
    return {
        "scheduled": n,
        "sent": int(started.sum()),
        "saturated_after_s": saturated_at,
        "ok": int(answered.sum()),
        "e5xx": int(((status >= 500) & (status < 600)).sum()),
        "other": int(((status > 0) & ~answered & (status < 500)).sum()),
        "failed": int((started & (status <= 0)).sum()),
        "unfinished": len(pending),
        "rate": float(answered.sum()) / (last - start),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "p999_ms": float(np.percentile(ms, 99.9)),
        "max_ms": float(ms.max()),
        "over_10ms": int((ms > 10).sum()),
        "service_p99_ms": float(np.percentile(service[done] * 1000, 99)) if done.any() else 0.0,
        "send_lag_p99_ms": float(np.percentile(lag[done] * 1000, 99)) if done.any() else 0.0,
    }


def run_open_loop(setup: Setup, target: Running, prefix: str, first: int) -> dict[str, Any]:
    count = setup.rate * setup.durations.open_s
    port = target.port
    payloads = []
    for n in range(first, first + count):
        body = setup.stream.body(prefix, n)
        payloads.append(
            f"POST /api/v1/predict HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nX-API-Key: {setup.api_key.raw}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    server_before, began = target.cpu_seconds(), time.perf_counter()
    with cpu_meter() as load, asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        found = runner.run(_open_loop(port, payloads, float(setup.rate)))
    found["server_cores"] = (target.cpu_seconds() - server_before) / (time.perf_counter() - began)
    found["load"] = load
    return found


def run_batches(setup: Setup, port: int, prefix: str, first: int) -> dict[str, Any]:
    """``batches`` batches of 1,000 new transactions, one after another on one connection."""
    times: list[float] = []
    problems: list[str] = []
    ok_items = 0
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        for b in range(setup.durations.batches):
            start = first + b * BATCH
            items = [setup.stream.body(prefix, n) for n in range(start, start + BATCH)]
            body = b'{"transactions":[' + b",".join(items) + b"]}"
            began = time.perf_counter()
            connection.request("POST", "/api/v1/predict/batch", body,
                               {"Content-Type": "application/json",
                                "X-API-Key": setup.api_key.raw})  # fmt: skip
            response = connection.getresponse()
            data = response.read()
            times.append((time.perf_counter() - began) * 1000)
            answer = json.loads(data)
            if response.status != 200 or answer.get("failed") != 0:
                problems.append(f"batch {b}: status {response.status}, {str(answer)[:200]}")
            else:
                ok_items += int(answer["scored"])
    finally:
        connection.close()
    return {
        "sent": BATCH * len(times),
        "ok": ok_items,
        "e5xx": sum(1 for p in problems if "status 5" in p),
        "other": sum(1 for p in problems if "status 5" not in p),
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "times_ms": [round(t, 1) for t in times],
        "problems": problems,
    }


def scrape(port: int) -> dict[str, float]:
    """The Prometheus samples of the process that answers (one worker)."""
    status, body = _get(port, "/metrics", timeout=10)
    found: dict[str, float] = {}
    if status != 200:
        return found
    for line in body.decode().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            found[name] = float(value)
    return found


# --------------------------------------------------------------------------- checks


DECISIONS = ("approve", "review", "block")


def stored(url: str, prefixes: dict[str, str]) -> dict[str, dict[str, int]]:
    """Rows of ``card_transaction`` per id prefix, and their decisions by outcome."""
    engine = sa.create_engine(url)
    counts: dict[str, dict[str, int]] = {}
    query = sa.text(
        "SELECT decision, count(*) FROM card_transaction WHERE transaction_id LIKE :p "
        "GROUP BY decision"
    )
    try:
        with engine.connect() as connection:
            for kind, prefix in prefixes.items():
                found = {str(d): int(n) for d, n in connection.execute(query, {"p": prefix + "%"})}
                counts[kind] = {d: found.pop(d, 0) for d in DECISIONS} | found
                counts[kind]["rows"] = sum(found.values()) + sum(counts[kind][d] for d in DECISIONS)
                counts[kind]["flagged"] = counts[kind]["rows"] - counts[kind]["approve"]
    finally:
        engine.dispose()
    return counts


def forget_redis(namespaces: list[str]) -> int:
    """Delete every key under the namespaces this run used (each is unique to the run)."""
    client = redis.Redis.from_url(REDIS)
    removed = 0
    try:
        for namespace in namespaces:
            for key in client.scan_iter(match=f"{namespace}*", count=1000):
                removed += int(client.unlink(key))
    finally:
        client.close()
    return removed


# --------------------------------------------------------------------------- phases


def reference_rounds(setup: Setup, ref: Running, seconds: int) -> dict[str, Any]:
    found = run_wrk(setup, ref, "ref-", setup.ref_index, seconds)
    setup.ref_index += found["sent"]
    return found


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rounds))


def run_phase(setup: Setup, phase: Phase, ref: Running) -> dict[str, Any]:
    d = setup.durations
    tag = f"{setup.run}{phase.name.replace('-', '')}-"
    prefixes = {kind: f"{tag}{kind}-" for kind in ("w", "m", "o", "b")}
    result: dict[str, Any] = {"label": phase.label, "tag": tag, "workers": phase.workers}
    url = phase_database(setup, phase)
    namespace = _namespace(setup, phase)
    if namespace is not None:
        setup.redis_namespaces.append(namespace)
    result["foreign_before"] = settle(d.settle_s)
    began = time.perf_counter()
    with txguard_server(setup, phase, url) as target:
        result["start_s"] = time.perf_counter() - began
        print(f"  healthy after {result['start_s']:.0f} s", flush=True)
        result["warm"] = run_wrk(setup, target, prefixes["w"], 0, d.warm_s)
        index = result["warm"]["sent"]
        rounds, references = [], []
        for _ in range(d.rounds):  # alternate, so drift in the machine's load hits both alike
            references.append(reference_rounds(setup, ref, d.round_s))
            rounds.append(run_wrk(setup, target, prefixes["m"], index, d.round_s))
            index += rounds[-1]["sent"]
        pairs = list(zip(rounds, references, strict=True))
        result["rounds"], result["reference_rounds"] = rounds, references
        result["rate"] = _median(rounds, "rate")
        result["reference_rate"] = _median(references, "rate")
        result["ratio"] = statistics.median(t["rate"] / r["rate"] for t, r in pairs)
        result["per_cpu_s"] = _median(rounds, "per_cpu_s")
        result["reference_per_cpu_s"] = _median(references, "per_cpu_s")
        result["cpu_ratio"] = statistics.median(t["per_cpu_s"] / r["per_cpu_s"] for t, r in pairs)
        result["server_cores"] = _median(rounds, "server_cores")
        result["reference_cores"] = _median(references, "server_cores")
        result["max"] = {
            key: sum(r[key] for r in rounds)
            for key in ("sent", "ok", "e5xx", "other", "socket_errors")
        }
        result["foreign"] = statistics.mean(r["load"]["foreign"] for r in rounds + references)
        print(f"  max: {result['rate']:,.0f} req/s vs reference {result['reference_rate']:,.0f} "
              f"(ratio {result['ratio']:.2f}; rounds {[round(r['rate']) for r in rounds]} vs "
              f"{[round(r['rate']) for r in references]}); per server CPU-second "
              f"{result['per_cpu_s']:,.0f} vs {result['reference_per_cpu_s']:,.0f} (ratio "
              f"{result['cpu_ratio']:.2f}; server {result['server_cores']:.2f} cores, reference "
              f"{result['reference_cores']:.2f}); wrk p50 {_median(rounds, 'p50_us') / 1000:.1f} ms, "
              f"5xx {result['max']['e5xx']}, other {result['max']['other']}, socket errors "
              f"{result['max']['socket_errors']}, wrk {_median(rounds, 'wrk_cores'):.2f} cores, "
              f"foreign load {result['foreign']:.2f} cores", flush=True)  # fmt: skip
        if phase.constant_rate:
            time.sleep(1)
            result["open"] = run_open_loop(setup, target, prefixes["o"], index)
            index += result["open"]["scheduled"]
            _print_open(setup, result["open"])
        if phase.batches:
            result["batch"] = run_batches(setup, target.port, prefixes["b"], index)
            b = result["batch"]
            print(f"  batch of {BATCH}: median {b['median_ms']:.1f} ms {b['times_ms']}", flush=True)
        if phase.workers == 1:
            metrics = scrape(target.port)
            result["server"] = {
                "5xx": sum(v for k, v in metrics.items()
                           if k.startswith("txguard_http_requests_total") and 'status="5' in k),
                "predict_200": metrics.get('txguard_http_requests_total{method="POST",route="/api/v1/predict",status="200"}', 0.0),
                "duplicates": metrics.get("txguard_duplicate_requests_total", -1.0),
                "request_log_dropped": metrics.get("txguard_request_log_dropped_total", -1.0),
                "degraded": metrics.get("txguard_degraded_decisions_total", 0.0),
                "rate_limit_unchecked": metrics.get("txguard_rate_limit_unchecked_total", -1.0),
            } | {
                decision: metrics.get(f'txguard_decisions_total{{decision="{decision}"}}', 0.0)
                for decision in DECISIONS
            }  # fmt: skip
            print(f"  server metrics: {result['server']}", flush=True)
    rows = stored(url, prefixes)
    checks = {}
    for kind, name in (("w", "warm"), ("m", "max"), ("o", "open"), ("b", "batch")):
        if name in result:
            checks[name] = {"sent": result[name]["sent"], "ok": result[name]["ok"]} | rows[kind]
    result["stored"] = checks
    # wrk stops with requests in flight: those may be stored without their 200 being seen
    loose = any(v["rows"] < v["ok"] or v["rows"] > v["sent"] for v in checks.values())
    exact = any(v["rows"] != v["ok"] for k, v in checks.items() if k in ("open", "batch"))
    result["lost"] = loose or exact
    print(f"  stored: {checks}", flush=True)
    return result


def _print_open(setup: Setup, o: dict[str, Any]) -> None:
    saturated = ""
    if o["saturated_after_s"] is not None:
        saturated = (f" SATURATED: more than {BACKLOG_S:.0f} s behind after "
                     f"{o['saturated_after_s']:.1f} s, {o['sent']:,} of {o['scheduled']:,} sent;")  # fmt: skip
    print(f"  {setup.rate}/s for {setup.durations.open_s} s:{saturated} p50 {o['p50_ms']:.2f} "
          f"p95 {o['p95_ms']:.2f} p99 {o['p99_ms']:.2f} p99.9 {o['p999_ms']:.2f} max "
          f"{o['max_ms']:.1f} ms, {o['rate']:,.0f} req/s, over 10 ms {o['over_10ms']}, 5xx "
          f"{o['e5xx']}, other {o['other']}, failed {o['failed']}, send lag p99 {o['send_lag_p99_ms']:.2f} ms, "
          f"server {o['server_cores']:.2f} cores, foreign load {o['load']['foreign']:.2f} cores",
          flush=True)  # fmt: skip


def run_reference_alone(setup: Setup, ref: Running, workers: int) -> dict[str, Any]:
    d = setup.durations
    result: dict[str, Any] = {"label": f"reference, {workers} worker(s)", "workers": workers}
    reference_rounds(setup, ref, d.warm_s)
    if workers == 1:
        result["foreign_before"] = settle(d.settle_s)
        result["open"] = run_open_loop(setup, ref, "ref-o-", setup.ref_index)
        setup.ref_index += result["open"]["scheduled"]
        _print_open(setup, result["open"])
    return result


# --------------------------------------------------------------------------- report


def _latency(o: dict[str, Any]) -> str:
    text = f"{o['p50_ms']:,.2f} / {o['p95_ms']:,.2f} / {o['p99_ms']:,.2f} / {o['max_ms']:,.1f}"
    if o["saturated_after_s"] is not None:
        text += f" (saturated after {o['saturated_after_s']:.1f} s)"
    return text


def report(setup: Setup, info: dict[str, str], command: str) -> None:
    r = setup.results
    print()
    print(f"command: {command}")
    for name, value in info.items():
        print(f"{name}: {value}")
    print(f"1-worker servers on CPU {setup.server_cpus or 'any'}, generators on the others; "
          f"2-worker servers on every CPU; niceness {setup.nice}")  # fmt: skip
    print(f"history imported: {setup.history_rows:,} transactions before {STREAM_START}; stream: "
          f"{len(setup.stream.secs):,} transactions over {setup.stream.span // 86_400} days")  # fmt: skip
    if setup.security:
        c = setup.security
        print(f"security checks, in-process, us per request back to back (1 ms apart): API key "
              f"{c['api_key_us']:.1f} ({c['api_key_spaced_us']:.1f}), rate-limit count in memory "
              f"{c['limit_memory_us']:.1f} ({c['limit_memory_spaced_us']:.1f}), in Redis "
              f"{c['limit_redis_us']:.1f} ({c['limit_redis_spaced_us']:.1f})")  # fmt: skip
    print()
    print(f"| run | req/s (wrk, {CONNECTIONS} conn.) | reference req/s | ratio | req per server "
          f"CPU-s (reference) | ratio | p50 / p95 / p99 / max ms at {setup.rate}/s | batch of "
          f"{BATCH}, median | 5xx | stored / answered 200 / sent | review / block (flagged) | "
          "foreign load |")  # fmt: skip
    print("|" + "---|" * 12)
    for workers in (1, 2):
        ref = r.get(f"ref-{workers}w")
        if ref and "open" in ref:
            o = ref["open"]
            print(f"| reference, {workers} worker | | | | | | {_latency(o)} | | {o['e5xx']} | | | "
                  f"{o['load']['foreign']:.2f} |")  # fmt: skip
        for phase in PHASES:
            x = r.get(phase.name)
            if x is None or phase.workers != workers:
                continue
            latency = _latency(x["open"]) if "open" in x else "-"
            batch = f"{x['batch']['median_ms']:,.0f} ms" if "batch" in x else "-"
            errors = sum(x[k]["e5xx"] for k in ("warm", "max", "open", "batch") if k in x)
            errors += sum(y["e5xx"] for y in x["reference_rounds"])
            s = x["stored"]
            rows = sum(v["rows"] for v in s.values())
            stored_text = (f"{rows:,} / {sum(v['ok'] for v in s.values()):,} / "
                           f"{sum(v['sent'] for v in s.values()):,}" + (" LOST" if x["lost"] else ""))  # fmt: skip
            share = {k: sum(v[k] for v in s.values()) / max(rows, 1)
                     for k in ("review", "block", "flagged")}  # fmt: skip
            print(f"| {x['label']} | {x['rate']:,.0f} | {x['reference_rate']:,.0f} | "
                  f"{x['ratio']:.2f} | {x['per_cpu_s']:,.0f} ({x['reference_per_cpu_s']:,.0f}) | "
                  f"{x['cpu_ratio']:.2f} | {latency} | {batch} | {errors} | {stored_text} | "
                  f"{share['review']:.1%} / {share['block']:.1%} ({share['flagged']:.1%}) | "
                  f"{x['foreign']:.2f} |")  # fmt: skip
    one, two = r.get("pg-1w-redis"), r.get("pg-2w-redis")
    if one and two:
        print(f"\nscaling, PostgreSQL + Redis: 2 workers / 1 worker = {two['rate'] / one['rate']:.2f}; "
              f"reference in the same rounds: {two['reference_rate'] / one['reference_rate']:.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short durations: a smoke run")
    parser.add_argument("--rate", type=int, default=1000, help="constant-rate requests a second")
    parser.add_argument(
        "--only", default="", help="comma-separated phases of: " + ",".join(p.name for p in PHASES)
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=-10,
        help="niceness of the servers and generators (negative needs root; 0 leaves it): on a "
        "shared machine, other processes then take less of the cores under test",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    command = shlex.join([os.path.relpath(sys.executable), *sys.argv])
    print(f"command: {command}", flush=True)
    chosen = [p for p in PHASES if not options.only or p.name in options.only.split(",")]
    info = machine_info()
    for name, value in info.items():
        print(f"{name}: {value}", flush=True)
    cpus = sorted(os.sched_getaffinity(0))
    run = secrets.token_hex(3)
    with tempfile.TemporaryDirectory(prefix="txguard_api_load_") as work_dir:
        work = Path(work_dir)
        setup = Setup(
            work=work, run=run, stream=Stream(work / "stream.csv"), lua=work / "load.lua",
            token_key=secrets.token_hex(24), api_key=generate(), pg_template=f"txguard_bench_{run}",
            server_cpus=str(cpus[0]) if len(cpus) >= 2 else "",
            durations=QUICK if options.quick else FULL, rate=options.rate,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            prepare(setup, chosen)
            steps = ", ".join(f"{k} {v:.0f} s" for k, v in setup.setup_s.items())
            print(f"setup: {time.perf_counter() - started:.0f} s ({steps}), "
                  f"{setup.history_rows:,} transactions imported, a stream of "
                  f"{len(setup.stream.secs):,}; security checks (us per call) "
                  f"{ {k: round(v, 1) for k, v in setup.security.items()} }", flush=True)  # fmt: skip
            if len(cpus) >= 2:
                os.sched_setaffinity(0, set(cpus[1:]))  # the generators; wrk inherits it
            if options.nice:
                try:  # servers and wrk inherit it; the databases keep their own
                    os.nice(options.nice)
                    setup.nice = options.nice
                    print(f"priority: nice {options.nice} for the servers and generators")
                except PermissionError:
                    print("priority: unchanged (raising it needs root)")
            for workers in (1, 2):
                phases = [p for p in chosen if p.workers == workers]
                if not phases:
                    continue
                print(f"reference, {workers} worker(s)", flush=True)
                with reference_server(setup, workers) as ref:
                    setup.results[f"ref-{workers}w"] = run_reference_alone(setup, ref, workers)
                    for phase in phases:
                        print(f"{phase.name}: {phase.label}", flush=True)
                        setup.results[phase.name] = run_phase(setup, phase, ref)
        finally:
            os.sched_setaffinity(0, set(cpus))
            if setup.redis_namespaces:
                removed = forget_redis(setup.redis_namespaces)
                print(f"redis: deleted {removed:,} keys of this run")
            for name in reversed(setup.pg_databases):  # the template last
                with psycopg.connect(POSTGRES, autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                print(f"postgresql: dropped {name}")
        print(f"total: {time.perf_counter() - started:.0f} s")
        report(setup, info, command)
        OUT.mkdir(exist_ok=True)
        (OUT / "api_load.json").write_text(
            json.dumps(
                {
                    "command": command,
                    "machine": info,
                    "security": setup.security,
                    "history_rows": setup.history_rows,
                    "stream_rows": len(setup.stream.secs),
                    "results": setup.results,
                },
                indent=1,
            )  # fmt: skip
        )
    failed = any(  # every request should be answered 200: a 4xx is the bench's own fault
        x.get("lost")
        or any(x[k]["e5xx"] or x[k]["other"] for k in ("warm", "max", "open", "batch") if k in x)
        for x in setup.results.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
