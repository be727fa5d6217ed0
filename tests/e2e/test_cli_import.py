"""``txguard import`` on both backends: counts, idempotence, tokens, and clear refusals."""

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from tests.fixtures.cli import Txguard

from txguard.files.writer import write_frame
from txguard.store.orm import LabelRow, TransactionRow


def _count(db_url: str, model: type[TransactionRow] | type[LabelRow]) -> int:
    engine = create_engine(db_url)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return count


def test_import_loads_transactions_and_labels_once(
    txguard: Txguard, small_parquet: Path, small_simulation: pd.DataFrame, db_url: str
) -> None:
    result = txguard("import", "--data", small_parquet, "--chunk-rows", "2500")
    assert result.exit_code == 0, result.output
    n = len(small_simulation)
    assert f"{n:,} transactions and {n:,} labels added" in result.output
    again = txguard("import", "--data", small_parquet)
    assert again.exit_code == 0
    assert "0 transactions and 0 labels added" in again.output
    assert _count(db_url, TransactionRow) == n
    assert _count(db_url, LabelRow) == n


def test_csv_and_parquet_of_the_same_data_are_the_same_transactions(
    txguard: Txguard, small_parquet: Path, small_csv: Path
) -> None:
    assert txguard("import", "--data", small_parquet).exit_code == 0
    result = txguard("import", "--data", small_csv)
    assert result.exit_code == 0
    assert "0 transactions and 0 labels added" in result.output


def test_frauds_and_scenarios_survive_the_import(
    txguard: Txguard, small_parquet: Path, small_simulation: pd.DataFrame, db_url: str
) -> None:
    txguard("import", "--data", small_parquet, "--label-delay-days", "7")
    engine = create_engine(db_url)
    with Session(engine) as session:
        frauds = session.scalar(select(func.count()).where(LabelRow.is_fraud)) or 0
        statement = (
            select(LabelRow.fraud_scenario, func.count())
            .where(LabelRow.is_fraud)
            .group_by(LabelRow.fraud_scenario)
        )
        by_scenario = dict(session.execute(statement).all())
        first = session.scalars(select(LabelRow).where(LabelRow.transaction_id == "0")).one()
        tx = session.scalars(
            select(TransactionRow).where(TransactionRow.transaction_id == "0")
        ).one()
    engine.dispose()
    assert frauds == int(small_simulation["TX_FRAUD"].sum())
    expected = (
        small_simulation[small_simulation["TX_FRAUD"] == 1]["TX_FRAUD_SCENARIO"]
        .value_counts()
        .to_dict()
    )
    assert by_scenario == expected
    assert (first.known_at - tx.occurred_at).days == 7


def test_customer_ids_are_stored_only_as_tokens(
    txguard: Txguard, small_parquet: Path, small_simulation: pd.DataFrame, db_url: str
) -> None:
    txguard("import", "--data", small_parquet)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        tokens = set(
            connection.execute(text("SELECT DISTINCT card_token FROM card_transaction")).scalars()
        )
    engine.dispose()
    customers = {str(c) for c in small_simulation["CUSTOMER_ID"].unique()}
    assert len(tokens) == len(customers)
    assert all(t.startswith("ct_") for t in tokens)
    assert not tokens & customers


def test_a_file_without_labels_imports_transactions_only(
    txguard: Txguard, small_simulation: pd.DataFrame, isolated_env: Path, db_url: str
) -> None:
    path = isolated_env / "unlabelled.parquet"
    write_frame(small_simulation.drop(columns=["TX_FRAUD", "TX_FRAUD_SCENARIO"]).head(50), path)
    result = txguard("import", "--data", path)
    assert result.exit_code == 0, result.output
    assert "50 transactions and 0 labels added" in result.output


def test_the_anonymised_layout_keeps_its_features(
    txguard: Txguard, isolated_env: Path, db_url: str
) -> None:
    frame = pd.DataFrame(
        {
            "Time": [0.0, 10.0],
            **{f"V{i}": [0.1 * i, -0.1 * i] for i in range(1, 29)},
            "Amount": [9.99, 120.0],
            "Class": [0, 1],
        }
    )
    path = isolated_env / "creditcard.csv"
    frame.to_csv(path, index=False)
    result = txguard("import", "--data", path)
    assert result.exit_code == 0, result.output
    engine = create_engine(db_url)
    with Session(engine) as session:
        row = session.scalars(
            select(TransactionRow).where(TransactionRow.transaction_id == "1")
        ).one()
    engine.dispose()
    assert row.features is not None and row.features["V28"] == pytest.approx(-2.8)
    assert row.card_token is None and row.amount == pytest.approx(120.0)


def test_an_id_prefix_lets_files_with_the_same_ids_coexist(
    txguard: Txguard, small_simulation: pd.DataFrame, isolated_env: Path, db_url: str
) -> None:
    path = isolated_env / "day.csv"
    small_simulation.head(10).to_csv(path, index=False)
    assert "10 transactions" in txguard("import", "--data", path, "--id-prefix", "bank-a:").output
    assert "10 transactions" in txguard("import", "--data", path, "--id-prefix", "bank-b:").output
    assert _count(db_url, TransactionRow) == 20


def _bad_row(frame: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    bad = frame.head(20).astype({column: object})
    bad.loc[11, column] = value
    return bad


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("TX_AMOUNT", -1.0, "column TX_AMOUNT, row 12"),
        ("TX_AMOUNT", float("inf"), "column TX_AMOUNT, row 12"),
        ("TX_DATETIME", "not a date", "column TX_DATETIME, row 12"),
        ("TRANSACTION_ID", 3, "column TRANSACTION_ID, row 12"),
    ],
)
def test_a_bad_row_stops_the_import_and_names_column_and_row(
    txguard: Txguard,
    small_simulation: pd.DataFrame,
    isolated_env: Path,
    db_url: str,
    column: str,
    value: object,
    expected: str,
) -> None:
    path = isolated_env / "bad.csv"
    _bad_row(small_simulation, column, value).to_csv(path, index=False)
    result = txguard("import", "--data", path, "--chunk-rows", "5")
    assert result.exit_code == 2
    assert expected in result.output and str(path) in result.output
    assert "Traceback" not in result.output
    assert _count(db_url, TransactionRow) == 0


def test_a_missing_column_is_named(
    txguard: Txguard, small_simulation: pd.DataFrame, isolated_env: Path
) -> None:
    path = isolated_env / "no_amount.csv"
    small_simulation.head(5).drop(columns=["TX_AMOUNT"]).to_csv(path, index=False)
    result = txguard("import", "--data", path)
    assert result.exit_code == 2
    assert "TX_AMOUNT" in result.output


def test_a_missing_file_is_named(txguard: Txguard, isolated_env: Path) -> None:
    result = txguard("import", "--data", isolated_env / "nowhere.parquet")
    assert result.exit_code == 2
    assert "nowhere.parquet" in result.output


def test_import_into_an_unmigrated_database_says_what_to_do(
    txguard_no_db: Txguard, monkeypatch: pytest.MonkeyPatch, empty_db_url: str, small_parquet: Path
) -> None:
    monkeypatch.setenv("TXGUARD_DATABASE_URL", empty_db_url)
    result = txguard_no_db("import", "--data", small_parquet)
    assert result.exit_code == 2
    assert "run `txguard migrate` first" in result.output
