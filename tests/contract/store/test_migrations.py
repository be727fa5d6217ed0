"""The shipped migrations and the ORM describe the same schema, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from txguard.store import migrate
from txguard.store.engine import create_db_engine
from txguard.store.orm import Base


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_downgrade_upgrade_round_trip(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_orm_and_migration_head_agree(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    migrate.upgrade(engine)
    assert _differences(engine) == []
    engine.dispose()


def test_queue_and_lookup_indexes_exist_and_none_the_scoring_path_would_only_write(
    engine: Engine,
) -> None:
    indexes = {
        ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("card_transaction")
    }
    assert indexes["ix_card_transaction_queue"] == ["status", "risk_score", "occurred_at", "id"]
    assert indexes["ix_card_transaction_occurred_at"] == ["occurred_at"]
    assert "ix_card_transaction_card_token_occurred_at" not in indexes
    assert "ix_card_transaction_terminal_id_occurred_at" not in indexes
    label_indexes = {ix["name"] for ix in inspect(engine).get_indexes("label")}
    assert "ix_label_known_at" in label_indexes
