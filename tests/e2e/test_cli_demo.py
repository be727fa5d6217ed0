"""``txguard demo`` from an empty directory, as ``make demo`` runs it."""

import re
from pathlib import Path

from tests.fixtures.cli import Txguard


def test_demo_simulates_migrates_imports_and_summarises(
    txguard_no_db: Txguard, isolated_env: Path
) -> None:
    result = txguard_no_db("demo", "--customers", "60", "--terminals", "120", "--days", "40")
    assert result.exit_code == 0, result.output
    assert (isolated_env / "var" / "txguard.db").is_file()
    transactions = int(
        re.search(r"transactions\s+([\d,]+)", result.output).group(1).replace(",", "")
    )  # type: ignore[union-attr]
    assert transactions > 1000
    assert re.search(r"frauds\s+[\d,]+\s+\(\d+\.\d\d% of labelled\)", result.output)
    assert "scenario 2" in result.output and "compromised terminal" in result.output


def test_demo_twice_adds_nothing_the_second_time(txguard_no_db: Txguard) -> None:
    args = ("demo", "--customers", "20", "--terminals", "40", "--days", "10")
    assert txguard_no_db(*args).exit_code == 0
    again = txguard_no_db(*args)
    assert again.exit_code == 0
    assert "imported 0 new transactions" in again.output
