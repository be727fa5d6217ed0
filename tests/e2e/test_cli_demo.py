"""``txguard demo`` from an empty directory, as ``make demo`` runs it."""

import re
import socket
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.fixtures.cli import Txguard

from txguard.cli import stream_demo
from txguard.runtime import build_runtime
from txguard.settings import get_settings
from txguard.store.orm import TransactionRow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _count(*conditions: object) -> int:
    """Rows of ``card_transaction`` in the database the demo used (the settings of the test)."""
    runtime = build_runtime(get_settings())
    try:
        with runtime.engine.connect() as connection:
            statement = select(func.count()).select_from(TransactionRow).where(*conditions)  # type: ignore[arg-type]
            return int(connection.execute(statement).scalar_one())
    finally:
        runtime.close()


def test_demo_trains_then_streams_through_the_api(
    txguard_no_db: Txguard, isolated_env: Path
) -> None:
    port = _free_port()
    result = txguard_no_db(
        "demo", "--customers", "60", "--terminals", "120", "--days", "40",
        "--port", port, "--rate", "250", "--stream-seconds", "40",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    output = result.output
    assert (isolated_env / "var" / "txguard.db").is_file()
    transactions = int(re.search(r"transactions\s+([\d,]+)", output).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert transactions > 1000
    assert re.search(r"frauds\s+[\d,]+\s+\(\d+\.\d\d% of labelled\)", output)
    assert "scenario 2" in output and "compromised terminal" in output
    assert "trained and activated" in output

    # the live part: the API served the model, scored a steady stream and stored each decision
    assert f"API ready on http://127.0.0.1:{port}" in output
    assert re.search(r"sent\s+[\d,]+\s+approve\s+[\d,]+\s+review\s+[\d,]+\s+block", output)
    streamed = re.search(r"streamed ([\d,]+) transactions in [\d.]+ s \(\d+/s\); ([\d,]+) decided", output)  # fmt: skip
    assert streamed is not None, output
    sent, decided = (int(g.replace(",", "")) for g in streamed.groups())
    assert sent == 868 and decided == sent  # the 10 days after the training window, all of them
    assert "requests failed" not in output
    assert _count(TransactionRow.transaction_id.startswith("live-")) == sent
    assert _count(TransactionRow.decision.is_not(None)) == sent
    assert f"API docs: http://127.0.0.1:{port}/api/docs" in output
    flagged = re.search(r"flagged transactions: the (\d) riskiest of ([\d,]+)", output)
    assert flagged is not None, output
    assert re.search(r"live-\d+: (BLOCK|REVIEW)  risk \d+/100", output)
    assert (isolated_env / "var" / "demo" / "api.log").is_file()

    # and stopped it
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0)


def test_demo_refuses_a_port_in_use_before_doing_anything(
    txguard_no_db: Txguard, isolated_env: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = txguard_no_db("demo", "--days", "40", "--port", port)
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output
    assert not (isolated_env / "var" / "demo").exists()


def test_a_server_that_dies_at_start_is_reported_with_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = "import sys; print('cannot open the database', file=sys.stderr); sys.exit(3)"
    monkeypatch.setattr(stream_demo, "_SERVE", failing)
    options, log = stream_demo.StreamOptions(port=_free_port()), tmp_path / "api.log"
    with pytest.raises(stream_demo.ApiServerError) as raised:
        with stream_demo.api_server(options, log) as server:
            stream_demo.wait_until_healthy(server, options, log)
    assert "exited with code 3 before it was ready" in str(raised.value)
    assert "cannot open the database" in str(raised.value)


def test_a_server_that_never_answers_is_reported_and_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_demo, "_SERVE", "import time; print('loading'); time.sleep(60)")
    monkeypatch.setattr(stream_demo, "START_TIMEOUT_S", 1.0)
    options, log = stream_demo.StreamOptions(port=_free_port()), tmp_path / "api.log"
    with pytest.raises(stream_demo.ApiServerError) as raised:
        with stream_demo.api_server(options, log) as server:
            stream_demo.wait_until_healthy(server, options, log)
    assert f"did not answer {options.base_url}/api/v1/health within 1 s" in str(raised.value)
    assert "loading" in str(raised.value)
    assert server.poll() is not None  # stopped on the way out


def test_demo_twice_adds_nothing_the_second_time(txguard_no_db: Txguard) -> None:
    args = ("demo", "--customers", "20", "--terminals", "40", "--days", "10")
    assert txguard_no_db(*args).exit_code == 0
    again = txguard_no_db(*args)
    assert again.exit_code == 0
    assert "imported 0 new transactions" in again.output
    assert "API" not in again.output  # too few days to train, so nothing to serve


def test_the_demo_server_admits_its_own_stream_unless_a_limit_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(stream_demo.RATE_LIMIT_VARIABLE, raising=False)
    env = stream_demo.server_environment(stream_demo.StreamOptions(rate=100.0))
    assert int(env[stream_demo.RATE_LIMIT_VARIABLE]) >= 100 * 60  # a minute of the stream
    assert env["PYTHONUNBUFFERED"] == "1"

    monkeypatch.setenv(stream_demo.RATE_LIMIT_VARIABLE, "50")
    env = stream_demo.server_environment(stream_demo.StreamOptions(rate=100.0))
    assert env[stream_demo.RATE_LIMIT_VARIABLE] == "50"  # the operator's choice stands
