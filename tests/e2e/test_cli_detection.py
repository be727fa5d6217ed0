"""``txguard train``, ``replay``, ``backtest`` and ``models`` on both backends, as a user runs them."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.fixtures.cli import Txguard
from typer.testing import Result

from txguard.files.writer import write_frame

TRAIN = ("--train-start", "2018-04-11", "--train-end", "2018-04-21")
SCORE = ("--score-start", "2018-04-28", "--score-end", "2018-04-30")
TEST = ("--test-start", "2018-04-28", "--test-end", "2018-04-30")
TRAINED = re.compile(r"trained (m-\d{8}-\d{8}-[0-9a-f]{8}) \(([a-z-]+), (\d+) features\)")
THRESHOLDS = re.compile(r"review >= ([0-9.]+), block >= ([0-9.]+)")
OUTPUT_HEADER = "transaction_id,fraud_probability,risk_score,decision"
DECISIONS = {"approve", "review", "block"}
VARIANTS = ("model", "rules_only", "anomaly_only")


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def _refused(result: Result) -> str:
    """The message of a command that refused its input: exit code 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


def _version(result: Result) -> str:
    """The version ``train`` printed."""
    found = TRAINED.search(result.output)
    assert found, result.output
    return found.group(1)


def _train(txguard: Txguard, data: Path, *extra: str) -> str:
    """Train on 2018-04-11..21 and return the version the command printed."""
    return _version(_ok(txguard("train", "--data", data, *TRAIN, *extra)))


def _artifact(cwd: Path, version: str) -> Path:
    """Where the default settings keep a version's artifact (data_dir/models)."""
    return cwd / "var" / "models" / f"{version}.txgm"


def _window_ids(data: Path, first: str, last: str) -> list[str]:
    """The file's transaction ids dated first..last (inclusive days), in time order."""
    frame = pd.read_parquet(data)
    when = frame["TX_DATETIME"]
    inside = frame[(when >= pd.Timestamp(first)) & (when < pd.Timestamp(last) + pd.Timedelta("1D"))]
    return inside.sort_values("TX_DATETIME", kind="stable")["TRANSACTION_ID"].astype(str).tolist()


def _read_scores(path: Path) -> pd.DataFrame:
    assert path.read_text().splitlines()[0] == OUTPUT_HEADER
    return pd.read_csv(path, dtype={"transaction_id": str})


# train and models


def test_train_activates_a_version_that_models_list_and_show_describe(
    txguard: Txguard, small_parquet: Path, isolated_env: Path
) -> None:
    result = _ok(txguard("train", "--data", small_parquet, *TRAIN, "--activate"))
    found = TRAINED.search(result.output)
    assert found, result.output
    version, algorithm, n_features = found.group(1), found.group(2), int(found.group(3))
    assert version.startswith("m-20180411-20180421-")
    assert algorithm == "lightgbm"
    assert "validation auc roc: 0." in result.output
    assert "thresholds for 100 alerts a day" in result.output
    printed = THRESHOLDS.search(result.output)
    assert printed, result.output
    assert "active: yes" in result.output

    listed = _ok(txguard("models", "list")).output.splitlines()
    assert len(listed) == 1
    assert listed[0].startswith(f"* {version}")
    assert "active" in listed[0] and "2018-04-11..2018-04-21" in listed[0]

    shown = json.loads(_ok(txguard("models", "show", version)).output)
    assert shown["version"] == version
    assert shown["active"] is True and shown["status"] == "active"
    assert shown["algorithm"] == "lightgbm"
    assert len(shown["features"]) == n_features
    assert "card_tx_count_1d" in shown["features"] and "amount" in shown["features"]
    assert shown["thresholds"]["review"] == pytest.approx(float(printed.group(1)), abs=1e-4)
    assert shown["thresholds"]["block"] == pytest.approx(float(printed.group(2)), abs=1e-4)
    assert shown["thresholds"]["alerts_per_day"] == 100
    assert str(shown["train_start"]).startswith("2018-04-11")
    assert str(shown["train_end"]).startswith("2018-04-21")
    artifact = _artifact(isolated_env, version)
    assert Path(shown["artifact"]) == artifact.resolve()
    assert shown["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert shown["created_by"].startswith("cli:")


def test_a_second_version_waits_until_activated_and_rollback_restores_the_first(
    txguard: Txguard, small_parquet: Path
) -> None:
    first = _train(txguard, small_parquet, "--activate")
    result = _ok(txguard("train", "--data", small_parquet, *TRAIN, "--alerts-per-day", "20"))
    second = _version(result)
    assert second != first
    assert "thresholds for 20 alerts a day" in result.output
    assert f"activate with: txguard models activate {second}" in result.output
    listed = _ok(txguard("models", "list")).output
    assert f"* {first}" in listed and f"  {second}" in listed

    assert f"{second} is active" in _ok(txguard("models", "activate", second)).output
    listed = _ok(txguard("models", "list")).output
    assert f"* {second}" in listed
    assert re.search(rf"  {first}\s+retired", listed), listed

    assert f"rolled back: {first} is active" in _ok(txguard("models", "rollback")).output
    assert f"* {first}" in _ok(txguard("models", "list")).output
    assert json.loads(_ok(txguard("models", "show", second)).output)["status"] == "retired"


def test_training_the_same_data_twice_is_refused_as_already_registered(
    txguard: Txguard, small_parquet: Path
) -> None:
    version = _train(txguard, small_parquet)
    message = _refused(txguard("train", "--data", small_parquet, *TRAIN))
    assert f"model version {version} is already registered" in message


def test_models_list_without_versions_says_how_to_get_one(txguard: Txguard) -> None:
    assert "no model versions yet: run `txguard train`" in _ok(txguard("models", "list")).output


@pytest.mark.parametrize("command", ["activate", "show"])
def test_an_unknown_version_is_named_with_the_known_ones(
    txguard: Txguard, small_parquet: Path, command: str
) -> None:
    message = _refused(txguard("models", command, "m-nope"))
    assert "model version 'm-nope' does not exist" in message
    assert "run `txguard train`" in message
    version = _train(txguard, small_parquet)
    message = _refused(txguard("models", command, "m-nope"))
    assert "'m-nope'" in message and version in message


def test_rollback_with_nothing_to_roll_back_to_is_refused(
    txguard: Txguard, small_parquet: Path
) -> None:
    assert "no earlier model version to roll back to" in _refused(txguard("models", "rollback"))
    version = _train(txguard, small_parquet, "--activate")
    assert "no earlier model version to roll back to" in _refused(txguard("models", "rollback"))
    assert f"* {version}" in _ok(txguard("models", "list")).output


def test_a_window_without_frauds_trains_an_anomaly_model_and_says_so(
    txguard: Txguard, small_simulation: pd.DataFrame, isolated_env: Path
) -> None:
    path = isolated_env / "no_frauds.parquet"
    write_frame(small_simulation.assign(TX_FRAUD=0, TX_FRAUD_SCENARIO=0), path)
    result = _ok(txguard("train", "--data", path, *TRAIN, "--activate"))
    found = TRAINED.search(result.output)
    assert found and found.group(2) == "isolation-forest", result.output
    assert "validation auc" not in result.output
    version = found.group(1)
    shown = json.loads(_ok(txguard("models", "show", version)).output)
    assert shown["algorithm"] == "isolation-forest" and shown["active"] is True
    assert shown["metrics"]["training_frauds"] == 0

    out = isolated_env / "anomaly.csv"
    replayed = _ok(txguard("replay", "--data", path, *SCORE, "--out", out))
    assert "degraded" not in replayed.output
    assert f"with model {version}" in replayed.output
    scores = _read_scores(out)
    assert scores["fraud_probability"].isna().all()
    assert "review" in set(scores["decision"])
    assert "block" not in set(scores["decision"])


def test_a_file_without_labels_trains_an_anomaly_model_with_a_note(
    txguard: Txguard, small_simulation: pd.DataFrame, isolated_env: Path
) -> None:
    path = isolated_env / "unlabelled.parquet"
    write_frame(small_simulation.drop(columns=["TX_FRAUD", "TX_FRAUD_SCENARIO"]), path)
    result = _ok(txguard("train", "--data", path, *TRAIN))
    assert "(isolation-forest," in result.output
    assert "note: no labels: no supervised model" in result.output

    report = json.loads(_ok(txguard("backtest", "--data", path, *TRAIN, *TEST, "--json")).output)
    assert any(n.startswith("no labels") for n in report["notes"])
    assert report["model"]["available"] is False
    assert all("metrics" not in report[name] for name in VARIANTS)


# replay


def test_replay_scores_exactly_the_window_with_the_active_model(
    txguard: Txguard, small_parquet: Path, isolated_env: Path
) -> None:
    version = _train(txguard, small_parquet, "--activate")
    review, block = (
        json.loads(_ok(txguard("models", "show", version)).output)["thresholds"][k]
        for k in ("review", "block")
    )
    out = isolated_env / "scores" / "out.csv"
    result = _ok(txguard("replay", "--data", small_parquet, *SCORE, "--out", out))
    assert "degraded" not in result.output

    scores = _read_scores(out)
    expected = _window_ids(small_parquet, "2018-04-28", "2018-04-30")
    assert scores["transaction_id"].tolist() == expected
    assert f"scored {len(expected):,} transactions with model {version}" in result.output
    assert set(scores["decision"]) <= DECISIONS
    assert scores["risk_score"].between(0, 100).all()
    assert (scores["risk_score"] == scores["risk_score"].round()).all()
    probability = scores["fraud_probability"]
    assert probability.notna().all() and probability.between(0, 1).all()
    assert (scores.loc[probability >= block, "decision"] == "block").all()
    assert (scores.loc[probability >= review, "decision"] != "approve").all()
    assert (probability >= block).any() and (probability < review).any()
    counts = scores["decision"].value_counts()
    for decision in DECISIONS:
        assert f"{decision}: {int(counts.get(decision, 0)):,}" in result.output


def test_replay_without_an_active_model_runs_degraded_on_the_rules(
    txguard: Txguard, small_parquet: Path, isolated_env: Path
) -> None:
    out = isolated_env / "degraded.csv"
    result = _ok(txguard("replay", "--data", small_parquet, *SCORE, "--out", out))
    assert "warning: degraded: no model is active" in result.stderr
    assert "with model none" in result.output
    scores = _read_scores(out)
    assert scores["transaction_id"].tolist() == _window_ids(
        small_parquet, "2018-04-28", "2018-04-30"
    )
    assert scores["fraud_probability"].isna().all()
    assert set(scores["decision"]) <= DECISIONS
    assert scores["risk_score"].between(0, 100).all()


def test_a_corrupted_active_model_degrades_replay_and_cannot_be_activated(
    txguard: Txguard, small_parquet: Path, isolated_env: Path
) -> None:
    version = _train(txguard, small_parquet, "--activate")
    artifact = _artifact(isolated_env, version)
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))

    out = isolated_env / "out.csv"
    result = _ok(txguard("replay", "--data", small_parquet, *SCORE, "--out", out))
    assert "warning: degraded" in result.stderr
    assert version in result.stderr and "corrupt" in result.stderr
    assert _read_scores(out)["fraud_probability"].isna().all()

    message = _refused(txguard("models", "activate", version))
    assert version in message and "corrupt" in message


# backtest


def test_backtest_json_reports_model_rules_and_anomaly_side_by_side(
    txguard: Txguard, small_parquet: Path
) -> None:
    result = _ok(txguard("backtest", "--data", small_parquet, *TRAIN, *TEST, "--json"))
    report = json.loads(result.output)
    assert report["model_version"].startswith("m-20180411-20180421-")
    assert report["periods"]["test"] == ["2018-04-28", "2018-04-30"]
    assert report["notes"] == []
    for name in VARIANTS:
        part = report[name]
        assert part["available"] is True, name
        metrics = part["metrics"]
        assert {"auc_roc", "average_precision", "card_precision_at_k"} <= set(metrics)
        assert 0 <= metrics["auc_roc"] <= 1 and 0 <= metrics["average_precision"] <= 1
        assert 0 <= metrics["card_precision_at_k"] <= 1
        assert metrics["k"] == 100
        policy = part["policy"]
        assert {"alerts_per_day", "precision", "frauds_caught", "frauds_missed", "net"} <= set(
            policy
        )
        assert policy["days"] == 3
    assert report["model"]["metrics"]["auc_roc"] > 0.5
    assert report["model"]["policy"]["frauds_caught"] > 0
    timing = report["timing_seconds"]
    assert timing["train"] >= 0 and timing["replay"] >= 0
    assert timing["transactions_replayed"] > 0


def test_backtest_prints_a_readable_report(txguard: Txguard, small_parquet: Path) -> None:
    output = _ok(txguard("backtest", "--data", small_parquet, *TRAIN, *TEST)).output
    assert output.startswith("model m-20180411-20180421-")
    for name in VARIANTS:
        assert re.search(rf"^{name}: AUC \d\.\d{{3}}  AP \d\.\d{{3}}  CP@100 ", output, re.M), name
    assert "alerts a day" in output and "net " in output


def test_backtest_on_the_anonymised_layout_says_what_it_could_not_compute(
    txguard: Txguard, isolated_env: Path
) -> None:
    rng = np.random.default_rng(3)
    n = 3000
    features = rng.normal(size=(n, 28))
    fraud = rng.uniform(size=n) < 0.05
    features[fraud, 0] += 3.0
    frame = pd.DataFrame(
        {
            "Time": np.sort(np.round(rng.uniform(0, 10 * 86_400, n))),
            **{f"V{i + 1}": features[:, i] for i in range(28)},
            "Amount": np.round(rng.uniform(1, 300, n), 2),
            "Class": fraud.astype(int),
        }
    )
    path = isolated_env / "creditcard.csv"
    frame.to_csv(path, index=False)
    periods = ("--train-start", "2013-09-01", "--train-end", "2013-09-06")
    periods += ("--test-start", "2013-09-08", "--test-end", "2013-09-10")

    report = json.loads(_ok(txguard("backtest", "--data", path, *periods, "--json")).output)
    assert "no card ids: card features and CP@100 cannot be computed" in report["notes"]
    assert "no terminal ids: terminal features cannot be computed" in report["notes"]
    metrics = report["model"]["metrics"]
    assert metrics["card_precision_at_k"] is None
    assert metrics["auc_roc"] > 0.5
    assert report["model"]["policy"]["frauds_caught"] > 0

    human = _ok(txguard("backtest", "--data", path, *periods)).output
    assert "CP@100 n/a" in human
    assert "note: no card ids" in human


# refusals


MISSING = "nowhere.parquet"
SPAN = "the file covers 2018-04-01..2018-04-30"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ("train", "--data", MISSING, *TRAIN),
            [MISSING, "does not exist"],
            id="train-missing-file",
        ),
        pytest.param(
            ("replay", "--data", MISSING, *SCORE, "--out", "out.csv"),
            [MISSING, "does not exist"],
            id="replay-missing-file",
        ),
        pytest.param(
            ("backtest", "--data", MISSING, *TRAIN, *TEST),
            [MISSING, "does not exist"],
            id="backtest-missing-file",
        ),
        pytest.param(
            (
                "train",
                "--data",
                "{data}",
                "--train-start",
                "2019-01-01",
                "--train-end",
                "2019-01-07",
            ),
            ["the training window 2019-01-01..2019-01-07 holds no transactions", SPAN],
            id="train-empty-window",
        ),
        pytest.param(
            ("replay", "--data", "{data}", "--score-start", "2019-01-01")
            + ("--score-end", "2019-01-07", "--out", "out.csv"),
            ["the scoring window 2019-01-01..2019-01-07 holds no transactions", SPAN],
            id="replay-empty-window",
        ),
        pytest.param(
            ("backtest", "--data", "{data}", *TRAIN, "--test-start", "2018-05-01")
            + ("--test-end", "2018-05-07"),
            ["the test period 2018-05-01..2018-05-07 holds no transactions", SPAN],
            id="backtest-empty-test-period",
        ),
        pytest.param(
            (
                "train",
                "--data",
                "{data}",
                "--train-start",
                "2018-13-01",
                "--train-end",
                "2018-04-21",
            ),
            ["--train-start must be a date as YYYY-MM-DD, got '2018-13-01'"],
            id="train-malformed-date",
        ),
        pytest.param(
            ("replay", "--data", "{data}", "--score-start", "2018-04-28")
            + ("--score-end", "30/04/2018", "--out", "out.csv"),
            ["--score-end must be a date as YYYY-MM-DD, got '30/04/2018'"],
            id="replay-malformed-date",
        ),
        pytest.param(
            ("backtest", "--data", "{data}", *TRAIN, "--test-start", "2018-04-28")
            + ("--test-end", "2018-04-31"),
            ["--test-end must be a date as YYYY-MM-DD, got '2018-04-31'"],
            id="backtest-malformed-date",
        ),
        pytest.param(
            (
                "train",
                "--data",
                "{data}",
                "--train-start",
                "2018-04-21",
                "--train-end",
                "2018-04-11",
            ),
            ["2018-04-11 is before", "2018-04-21"],
            id="train-end-before-start",
        ),
        pytest.param(
            ("replay", "--data", "{data}", "--score-start", "2018-04-30")
            + ("--score-end", "2018-04-28", "--out", "out.csv"),
            ["2018-04-28 is before", "2018-04-30"],
            id="replay-end-before-start",
        ),
        pytest.param(
            ("backtest", "--data", "{data}", "--train-start", "2018-04-21")
            + ("--train-end", "2018-04-11", *TEST),
            ["--train-end 2018-04-11 is before --train-start"],
            id="backtest-train-end-before-start",
        ),
        pytest.param(
            ("backtest", "--data", "{data}", *TRAIN, "--test-start", "2018-04-21")
            + ("--test-end", "2018-04-30"),
            ["--test-start 2018-04-21 must come after --train-end 2018-04-21"],
            id="backtest-test-overlaps-training",
        ),
        pytest.param(
            ("replay", "--data", "{data}", *SCORE, "--out", "scores.txt"),
            ["--out must name a .csv file", "scores.txt"],
            id="replay-out-not-csv",
        ),
        pytest.param(
            ("train", "--data", "{data}", *TRAIN, "--label-delay-days", "0"),
            ["--label-delay-days"],
            id="train-zero-label-delay",
        ),
        pytest.param(
            ("replay", "--data", "{data}", *SCORE, "--out", "o.csv", "--label-delay-days", "0"),
            ["--label-delay-days"],
            id="replay-zero-label-delay",
        ),
        pytest.param(
            ("backtest", "--data", "{data}", *TRAIN, *TEST, "--label-delay-days", "0"),
            ["--label-delay-days"],
            id="backtest-zero-label-delay",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_exit_code_2(
    txguard: Txguard,
    small_parquet: Path,
    isolated_env: Path,
    args: tuple[str, ...],
    expected: list[str],
) -> None:
    argv = [str(small_parquet) if a == "{data}" else a for a in args]
    message = _refused(txguard(*argv))
    for part in expected:
        assert part in message, message
    assert not list(isolated_env.glob("*.csv")) and not list(isolated_env.glob("*.txt"))
    assert "no model versions yet" in _ok(txguard("models", "list")).output
