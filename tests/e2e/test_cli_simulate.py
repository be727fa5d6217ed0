"""``txguard simulate`` as a user runs it: options, files written, messages and exit codes."""

import filecmp
import re
from pathlib import Path

import pandas as pd
import pytest
from tests.fixtures.cli import Txguard

SMALL = ("--customers", "80", "--terminals", "150", "--days", "14")


def test_help_lists_every_option_with_the_handbook_defaults(
    txguard_no_db: Txguard,
) -> None:
    result = txguard_no_db("simulate", "--help")
    assert result.exit_code == 0
    for option in (
        "--customers",
        "--terminals",
        "--days",
        "--start-date",
        "--seed",
        "--out",
        "--radius",
    ):
        assert option in result.output
    for default in ("5000", "10000", "183", "2018-04-01"):
        assert default in result.output


@pytest.mark.parametrize("name", ["tx.parquet", "tx.csv"])
def test_writes_the_file_and_reports_a_summary(
    txguard_no_db: Txguard, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "data" / name
    result = txguard_no_db("simulate", *SMALL, "--start-date", "2020-02-28", "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out) if name.endswith(".parquet") else pd.read_csv(out)
    assert list(frame.columns)[:2] == ["TRANSACTION_ID", "TX_DATETIME"]
    assert str(frame["TX_DATETIME"].min()).startswith("2020-02-28")
    summary = re.search(r"wrote ([\d,]+) transactions, ([\d,]+) frauds", result.stdout)
    assert summary is not None
    assert int(summary[1].replace(",", "")) == len(frame)
    assert int(summary[2].replace(",", "")) == frame["TX_FRAUD"].sum()
    assert str(out) in result.stdout


@pytest.mark.parametrize("name", ["tx.parquet", "tx.csv"])
def test_the_same_seed_writes_the_same_bytes(
    txguard_no_db: Txguard, tmp_path: Path, name: str
) -> None:
    first, second, other = (
        tmp_path / "1" / name,
        tmp_path / "2" / name,
        tmp_path / "3" / name,
    )
    for out, seed in ((first, "5"), (second, "5"), (other, "6")):
        assert txguard_no_db("simulate", *SMALL, "--seed", seed, "--out", str(out)).exit_code == 0
    assert filecmp.cmp(first, second, shallow=False)
    assert not filecmp.cmp(first, other, shallow=False)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--start-date", "2018-02-30"), "--start-date"),
        (("--start-date", "April 1st"), "--start-date"),
        (("--customers", "0"), "--customers"),
        (("--terminals", "0"), "--terminals"),
        (("--days", "-1"), "--days"),
        (("--radius", "0"), "--radius"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    txguard_no_db: Txguard, tmp_path: Path, args: tuple[str, str], option: str
) -> None:
    out = tmp_path / "tx.parquet"
    result = txguard_no_db("simulate", *args, "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert option in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_unknown_extension_exits_2_before_simulating(
    txguard_no_db: Txguard, tmp_path: Path
) -> None:
    result = txguard_no_db("simulate", *SMALL, "--out", str(tmp_path / "tx.json"))
    assert result.exit_code == 2
    assert "'.json'" in result.stderr
    assert ".parquet or .csv" in result.stderr
    assert not any(tmp_path.iterdir())


def test_out_is_required(txguard_no_db: Txguard) -> None:
    result = txguard_no_db("simulate", *SMALL)
    assert result.exit_code == 2
    assert "--out" in result.output
