"""Bulk inserts behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from txguard.store import bulk
from txguard.store.exceptions import StorageError
from txguard.store.orm import LabelRow, TransactionRow

T0 = datetime(2018, 4, 1, 8, 30, tzinfo=UTC)


def _transactions(
    ids: list[str], features: list[dict[str, float] | None] | None = None
) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "transaction_id": ids,
            "occurred_at": pd.to_datetime([T0 + timedelta(minutes=i) for i in range(n)], utc=True),
            "amount": [10.5 + i for i in range(n)],
            "card_token": ["ct_a"] * n,
            "terminal_id": [None if i == 0 else "77" for i in range(n)],
            "features": features or [None] * n,
            "source": "import",
        }
    )


def test_rows_land_with_their_values(engine: Engine) -> None:
    with engine.begin() as connection:
        assert (
            bulk.insert_transactions(connection, _transactions(["a", "b"], [{"V1": -1.5}, None]))
            == 2
        )
    with Session(engine) as session:
        rows = session.scalars(select(TransactionRow).order_by(TransactionRow.transaction_id)).all()
    assert [r.transaction_id for r in rows] == ["a", "b"]
    assert rows[0].occurred_at == T0 and rows[0].occurred_at.tzinfo is not None
    assert rows[0].features == {"V1": -1.5} and rows[1].features is None
    assert rows[0].terminal_id is None and rows[1].terminal_id == "77"
    assert rows[1].amount == pytest.approx(11.5)
    assert rows[0].status is None and rows[0].decision is None and rows[0].degraded is False


def test_inserting_again_adds_nothing(engine: Engine) -> None:
    with engine.begin() as connection:
        bulk.insert_transactions(connection, _transactions(["a", "b"]))
    with engine.begin() as connection:
        assert bulk.insert_transactions(connection, _transactions(["a", "b", "c"])) == 1


def test_labels_one_per_transaction_and_source(engine: Engine) -> None:
    labels = pd.DataFrame(
        {
            "transaction_id": ["a", "b"],
            "is_fraud": [True, False],
            "source": "import",
            "known_at": pd.to_datetime([T0, T0], utc=True),
            "fraud_scenario": pd.array([2, pd.NA], dtype="Int8"),
        }
    )
    with engine.begin() as connection:
        assert bulk.insert_labels(connection, labels) == 2
        assert bulk.insert_labels(connection, labels) == 0
    with Session(engine) as session:
        rows = {r.transaction_id: r for r in session.scalars(select(LabelRow))}
    assert rows["a"].is_fraud and rows["a"].fraud_scenario == 2
    assert not rows["b"].is_fraud and rows["b"].fraud_scenario is None


def test_an_empty_frame_is_a_no_op(engine: Engine) -> None:
    with engine.begin() as connection:
        assert bulk.insert_transactions(connection, _transactions([])) == 0


def test_a_failure_rolls_back_the_whole_batch(engine: Engine) -> None:
    bad = _transactions(["x", "y"])
    bad.loc[1, "amount"] = -5.0
    with pytest.raises(StorageError, match="amount_not_negative"), engine.begin() as connection:
        bulk.insert_transactions(connection, _transactions(["ok"]))
        bulk.insert_transactions(connection, bad)
    with Session(engine) as session:
        assert session.scalars(select(TransactionRow)).all() == []


def _index_names(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    inspector = inspect(engine)
    return {ix["name"] for t in ("card_transaction", "label") for ix in inspector.get_indexes(t)}


def test_bulk_load_into_empty_then_filled_tables(engine: Engine) -> None:
    before = _index_names(engine)
    with engine.begin() as connection, bulk.bulk_load(connection) as writer:
        assert writer.insert_transactions(_transactions(["a", "b"])) == 2
        assert writer.insert_transactions(_transactions(["c"])) == 1
    assert _index_names(engine) == before
    with engine.begin() as connection, bulk.bulk_load(connection) as writer:
        assert writer.insert_transactions(_transactions(["a", "b", "d"])) == 1
    assert _index_names(engine) == before


def test_a_duplicate_in_a_first_load_never_lands_twice(engine: Engine) -> None:
    try:
        with engine.begin() as connection, bulk.bulk_load(connection) as writer:
            writer.insert_transactions(_transactions(["a", "a"]))
        expected = 1
    except StorageError as exc:
        assert "uq_card_transaction_transaction_id" in str(exc)
        expected = 0
    with Session(engine) as session:
        assert len(session.scalars(select(TransactionRow)).all()) == expected


def test_a_failed_bulk_load_leaves_indexes_and_rows_as_they_were(engine: Engine) -> None:
    before = _index_names(engine)
    bad = _transactions(["x"])
    bad.loc[0, "amount"] = -1.0
    with pytest.raises(StorageError), engine.begin() as connection:
        with bulk.bulk_load(connection) as writer:
            writer.insert_transactions(_transactions(["ok"]))
            writer.insert_transactions(bad)
    assert _index_names(engine) == before
    with Session(engine) as session:
        assert session.scalars(select(TransactionRow)).all() == []


def test_postgresql_has_planner_statistics_after_a_load(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans without collected statistics")
    with engine.begin() as connection, bulk.bulk_load(connection) as writer:
        writer.insert_transactions(_transactions([f"t{i}" for i in range(50)]))

    with engine.connect() as connection:
        analysed = connection.execute(
            text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
        ).scalars()
        assert {"card_transaction", "label"} <= set(analysed)
