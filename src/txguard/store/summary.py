"""Read-only counts over transactions and labels."""

from sqlalchemy import Connection, Engine, Select, func, select

from txguard.domain.datasets import DatasetSummary
from txguard.store.orm import LabelRow, TransactionRow


def dataset_summary(engine: Engine) -> DatasetSummary:
    """Counts of transactions, labels and frauds per generator scenario."""
    labelled = func.count(func.distinct(LabelRow.transaction_id))
    with engine.connect() as connection:
        return DatasetSummary(
            transactions=_count(connection, select(func.count()).select_from(TransactionRow)),
            labelled=_count(connection, select(labelled)),
            frauds=_count(connection, select(labelled).where(LabelRow.is_fraud)),
            frauds_by_scenario=_by_scenario(connection),
        )


def _count(connection: Connection, statement: Select[int]) -> int:
    return connection.execute(statement).scalar_one()


def _by_scenario(connection: Connection) -> dict[int, int]:
    statement = (
        select(LabelRow.fraud_scenario, func.count())
        .where(LabelRow.is_fraud, LabelRow.fraud_scenario.is_not(None))
        .group_by(LabelRow.fraud_scenario)
        .order_by(LabelRow.fraud_scenario)
    )
    return {int(s): int(n) for s, n in connection.execute(statement) if s is not None}
