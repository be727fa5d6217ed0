"""The live half of ``txguard demo``: the HTTP API in a subprocess, fed at a steady rate.

The server is ``txguard serve`` started with this process's interpreter, environment and
working directory, so it opens the database the demo just filled and serves the model the
demo just activated. Transactions go to ``POST /api/v1/predict`` on a fixed schedule
(request *i* is due ``i / rate`` seconds after the start), in time order, over one
keep-alive connection. Whatever happens (an error, a Ctrl-C, a ``kill``), the server is
stopped before this process leaves; with ``keep_serving`` it runs until Ctrl-C."""

import math
import os
import signal
import socket
import subprocess  # the demo runs its API server in a child process  # nosec B404
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
import typer

from txguard.domain.errors import ConfigurationError, TxguardError
from txguard.scoring.history import History, day_bounds_ms
from txguard.settings import Settings

HOST = "127.0.0.1"
ID_PREFIX = "live-"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
REQUEST_TIMEOUT_S = 10.0
FAILURES_TO_GIVE_UP = 50
PROGRESS_EVERY_S = 4.0
LAG_TO_MENTION_S = 0.25
FLAGGED_SHOWN = 5
LOG_TAIL_LINES = 30
DECISIONS = ("approve", "review", "block")
_COLOURS = {"approve": "green", "review": "yellow", "block": "red"}
_SERVE = "from txguard.cli.main import main; main()"
RATE_LIMIT_VARIABLE = "TXGUARD_RATE_LIMIT_PER_MINUTE"


class ApiServerError(TxguardError):
    """The demo's API server could not be started, or stopped answering."""


@dataclass(frozen=True)
class StreamOptions:
    """Where the API listens and how the demo feeds it."""

    port: int = 8000
    rate: float = 100.0
    seconds: float = 20.0
    keep_serving: bool = False
    host: str = HOST
    service_key: str = field(default="", repr=False)
    """The payment switch's API key (role SERVICE): it sends the transactions."""
    analyst_key: str = field(default="", repr=False)
    """An analyst's API key: it reads the alert queue."""

    @property
    def base_url(self) -> str:
        """The server's root URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass
class StreamStats:
    """What the stream has seen so far."""

    sent: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str | None = None
    last_error: str | None = None
    failures_in_a_row: int = 0
    max_lag_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    reported: str = ""

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (nearest rank) of the round-trip times of answered requests."""
        if not self.latencies_ms:
            return None
        ranked = sorted(self.latencies_ms)
        return ranked[min(len(ranked) - 1, max(0, math.ceil(q * len(ranked)) - 1))]

    def line(self) -> str:
        """One progress line: sent, decisions by outcome, errors, p50 and p99 latency."""
        outcomes = "  ".join(f"{d} {self.decisions[d]:>5,}" for d in DECISIONS)
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        latency = "n/a" if p50 is None or p99 is None else f"p50 {p50:.1f} ms  p99 {p99:.1f} ms"
        errors = f"  errors {sum(self.errors.values()):,}" if self.errors else ""
        return (
            f"{self.elapsed_s:>6.1f} s  sent {self.sent:>6,}  {outcomes}{errors}  latency {latency}"
        )

    def report(self) -> None:
        """Print the progress line, unless it is the one printed last."""
        line = self.line()
        if line != self.reported:
            typer.echo(line)
            self.reported = line


def run(history: History, first: date, last: date, options: StreamOptions, log: Path) -> None:
    """Serve the API, stream the days ``first``..``last`` through it, show what it flagged."""
    ensure_port_free(options.host, options.port)
    limit = math.floor(options.rate * options.seconds)
    payloads = stream_payloads(history, first, last, limit)
    typer.echo(f"\nstarting the API: txguard serve --host {options.host} --port {options.port}")
    started = time.monotonic()
    with api_server(options, log) as server:
        health = wait_until_healthy(server, options, log)
        model = health.get("components", {}).get("model", {}).get("detail", "no model")
        typer.echo(
            f"API ready on {options.base_url} in {time.monotonic() - started:.1f} s "
            f"({health.get('status')}, model {model})"
        )
        if payloads:
            span = f"{payloads[0]['timestamp'][:10]}..{payloads[-1]['timestamp'][:10]}"
            typer.echo(
                f"streaming {len(payloads):,} transactions of {span} to "
                f"POST {options.base_url}/api/v1/predict at {options.rate:g}/s"
            )
            typer.echo(
                "(the server rebuilt each card's and terminal's history from the imported days;"
                " the streamed days were kept out of the import)"
            )
            stats = stream(server, options, payloads)
            _print_summary(stats, options)
        else:
            typer.echo(f"no transactions to stream in {first}..{last}")
        typer.echo("")
        typer.secho(f"API docs: {options.base_url}/api/docs", bold=True)
        print_flagged(options)
        if options.keep_serving:
            _serve_until_interrupted(server, options, log)


def ensure_port_free(host: str, port: int) -> None:
    """Refuse to start when something already listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port only held by closed connections (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"port {port} on {host} is already in use ({exc.strerror}); stop what listens "
                f"there (another txguard serve or demo?) or choose another port with --port"
            ) from exc


def stream_payloads(history: History, first: date, last: date, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` request bodies for the transactions of ``first``..``last``, in time order.

    Ids get the ``live-`` prefix: the simulated ids are already in the database as imported
    history, and an id is decided once. A second demo run sends the same ids, so the API
    answers them with the decisions stored the first time.
    """
    lo, hi = day_bounds_ms(first, last)
    frame = history.frame
    times = frame["time_ms"].to_numpy()
    start = int(np.searchsorted(times, lo, side="left"))
    stop = min(int(np.searchsorted(times, hi, side="left")), start + max(0, limit))
    part = frame.iloc[start:stop]
    rows = zip(
        part["transaction_id"].tolist(),
        part["time_ms"].tolist(),
        part["amount"].tolist(),
        part["card"].tolist(),
        part["terminal"].tolist(),
        strict=True,
    )
    payloads = []
    for transaction_id, time_ms, amount, card, terminal in rows:
        occurred = datetime.fromtimestamp(time_ms / 1000, UTC)
        payload: dict[str, Any] = {
            "transaction_id": f"{ID_PREFIX}{transaction_id}",
            "amount": float(amount),
            "timestamp": occurred.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if not pd.isna(card):
            payload["card_id"] = str(card)
        if not pd.isna(terminal):
            payload["terminal_id"] = str(terminal)
        payloads.append(payload)
    return payloads


def server_environment(options: StreamOptions) -> dict[str, str]:
    """This process's environment, the server's output unbuffered (the log tail is current),
    and, unless set, a rate limit the demo's own stream stays under: at its default 100 a
    second its switch sends six times the default limit a minute on its one key."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    default = int(Settings.model_fields["rate_limit_per_minute"].default)
    env.setdefault(RATE_LIMIT_VARIABLE, str(max(default, math.ceil(options.rate * 60 * 2))))
    return env


@contextmanager
def api_server(options: StreamOptions, log: Path) -> Iterator["subprocess.Popen[bytes]"]:
    """``txguard serve`` in a subprocess, its output in ``log``; stopped when the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", _SERVE, "serve", "--host", options.host,
               "--port", str(options.port), "--workers", "1"]  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments  # nosec B603
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=server_environment(options),
            # Its own process group: a Ctrl-C reaches the demo only, which then stops the
            # server once (a second signal would make uvicorn skip its graceful shutdown).
            start_new_session=True,
        )
        try:
            with _sigterm_as_exit():
                yield server
        finally:
            stop_server(server)


def stop_server(server: "subprocess.Popen[bytes]") -> None:
    """SIGTERM (uvicorn stores what is queued and exits), SIGKILL if it does not."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """A ``kill`` of the demo unwinds like Ctrl-C does, so the server is stopped too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_until_healthy(
    server: "subprocess.Popen[bytes]", options: StreamOptions, log: Path
) -> dict[str, Any]:
    """The health document once ``GET /api/v1/health`` answers 200; a clear error otherwise."""
    url = f"{options.base_url}/api/v1/health"
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while True:
            if server.poll() is not None:
                raise ApiServerError(
                    f"the API server exited with code {server.returncode} before it was ready; "
                    f"its output ({log}):\n{log_tail(log)}"
                )
            try:
                response = client.get(url)
            except httpx.TransportError as exc:
                last = str(exc) or type(exc).__name__
            else:
                if response.status_code == 200:
                    health: dict[str, Any] = response.json()
                    return health
                last = f"HTTP {response.status_code}: {response.text[:300]}"
            if time.monotonic() > deadline:
                raise ApiServerError(
                    f"the API server did not answer {url} within {START_TIMEOUT_S:.0f} s "
                    f"(last: {last}); its output ({log}):\n{log_tail(log)}"
                )
            time.sleep(0.2)


def stream(
    server: "subprocess.Popen[bytes]", options: StreamOptions, payloads: list[dict[str, Any]]
) -> StreamStats:
    """Send ``payloads`` on a fixed schedule for at most ``options.seconds``; what came back.

    Request *i* is due ``i / rate`` seconds after the start, whatever the earlier answers
    took; a late one leaves as soon as it can, so a slow answer delays the next ones but
    not the schedule. One keep-alive connection carries them in time order, as the online
    features expect a card's payments.
    """
    stats = StreamStats()
    headers = {"X-API-Key": options.service_key}
    with httpx.Client(
        base_url=options.base_url, timeout=REQUEST_TIMEOUT_S, headers=headers
    ) as client:
        started = time.monotonic()
        report_at = started + PROGRESS_EVERY_S
        for i, payload in enumerate(payloads):
            due = started + i / options.rate
            now = time.monotonic()
            if now - started >= options.seconds:
                break
            if due > now:
                time.sleep(due - now)
            else:
                stats.max_lag_s = max(stats.max_lag_s, now - due)
            _predict(client, payload, stats)
            if stats.failures_in_a_row >= FAILURES_TO_GIVE_UP or server.poll() is not None:
                raise ApiServerError(_broken(server, stats))
            if time.monotonic() >= report_at:
                stats.elapsed_s = time.monotonic() - started
                stats.report()
                report_at += PROGRESS_EVERY_S
        stats.elapsed_s = time.monotonic() - started
    return stats


def _predict(client: httpx.Client, payload: dict[str, Any], stats: StreamStats) -> None:
    stats.sent += 1
    sent = time.perf_counter()
    try:
        response = client.post("/api/v1/predict", json=payload)
    except httpx.HTTPError as exc:
        _failed(stats, type(exc).__name__, f"{type(exc).__name__}: {exc}")
        return
    if response.status_code != 200:
        _failed(stats, f"HTTP {response.status_code}", response.text[:300])
        return
    stats.latencies_ms.append((time.perf_counter() - sent) * 1000.0)
    stats.decisions[str(response.json()["decision"])] += 1
    stats.failures_in_a_row = 0


def _broken(server: "subprocess.Popen[bytes]", stats: StreamStats) -> str:
    code = server.poll()
    if code is not None:
        return f"the API server exited with code {code} while streaming"
    return f"{stats.failures_in_a_row} requests in a row failed; the last: {stats.last_error}"


def _failed(stats: StreamStats, kind: str, message: str) -> None:
    stats.errors[kind] += 1
    stats.failures_in_a_row += 1
    stats.last_error = message
    if stats.first_error is None:
        stats.first_error = message


def _print_summary(stats: StreamStats, options: StreamOptions) -> None:
    stats.report()
    rate = stats.sent / stats.elapsed_s if stats.elapsed_s > 0 else 0.0
    answered = sum(stats.decisions.values())
    typer.echo(
        f"streamed {stats.sent:,} transactions in {stats.elapsed_s:.1f} s ({rate:,.0f}/s); "
        f"{answered:,} decided and stored"
    )
    if stats.max_lag_s > LAG_TO_MENTION_S:
        typer.echo(
            f"(the answers fell behind the schedule by up to {stats.max_lag_s:.2f} s; "
            "a lower --rate keeps it steady)"
        )
    if stats.errors:
        kinds = ", ".join(f"{kind} x{count}" for kind, count in stats.errors.most_common())
        typer.secho(f"{sum(stats.errors.values()):,} requests failed ({kinds})", fg="red", err=True)
        typer.secho(f"  first failure: {stats.first_error}", fg="red", err=True)
        if answered == 0:
            raise ApiServerError(f"no transaction could be scored through {options.base_url}")


def print_flagged(options: StreamOptions) -> None:
    """The riskiest alerts of the analyst queue, each with its score and reasons."""
    headers = {"X-API-Key": options.analyst_key}
    with httpx.Client(
        base_url=options.base_url, timeout=REQUEST_TIMEOUT_S, headers=headers
    ) as client:
        page = _get(client, f"/api/v1/anomalies?limit={FLAGGED_SHOWN}")
        items: list[dict[str, Any]] = page.get("items", [])
        if not items:
            typer.echo("no flagged transactions in the alert queue yet")
            return
        typer.echo(
            f"flagged transactions: the {len(items)} riskiest of {page.get('total', 0):,} in the "
            f"alert queue (GET {options.base_url}/api/v1/anomalies?limit={FLAGGED_SHOWN}):"
        )
        for item in items:
            detail = _get(client, f"/api/v1/transactions/{quote(item['transaction_id'], safe='')}")
            _print_flagged_item(item, detail.get("explanation") or {})


def _print_flagged_item(item: dict[str, Any], explanation: dict[str, Any]) -> None:
    decision = str(item.get("decision") or "review")
    typer.echo("")
    typer.secho(
        f"  {item['transaction_id']}: {decision.upper()}  risk {item.get('risk_score')}/100  "
        f"amount {item.get('amount', 0.0):,.2f}  at {item.get('occurred_at')}  "
        f"case {item.get('status')}",
        fg=_COLOURS.get(decision),
    )
    if item.get("reasons"):
        typer.echo(f"    rules: {', '.join(item['reasons'])}")
    for factor in explanation.get("risk_factors", [])[:3]:
        typer.echo(f"    + {factor}")
    if explanation.get("recommendation"):
        typer.echo(f"    {explanation['recommendation']}")


def _get(client: httpx.Client, path: str) -> dict[str, Any]:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise ApiServerError(f"GET {path}: {exc}") from exc
    if response.status_code != 200:
        raise ApiServerError(f"GET {path}: HTTP {response.status_code} {response.text[:300]}")
    document: dict[str, Any] = response.json()
    return document


def _serve_until_interrupted(
    server: "subprocess.Popen[bytes]", options: StreamOptions, log: Path
) -> None:
    typer.echo(f"\nthe API keeps serving on {options.base_url} (log: {log}); Ctrl-C stops it")
    typer.echo(
        "to try it from the docs page (Authorize), use the demo's analyst key, shown once:\n"
        f"  X-API-Key: {options.analyst_key}"
    )
    try:
        code = server.wait()
    except KeyboardInterrupt:
        typer.echo("\nstopping the API")
        return
    raise ApiServerError(
        f"the API server exited with code {code}; its output ({log}):\n{log_tail(log)}"
    )


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of the server's output."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(could not read {log}: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"  | {line}" for line in tail) if tail else "  (no output)"
