"""The stored transactions and fraud labels a serving process needs to rebuild its feature state.

An embedded (in-memory) feature store starts empty; without this, a restarted API would
treat every card as new and every terminal as clean. Rows are streamed in time order so the
history of millions of transactions never sits in memory at once.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from txguard.store.orm import LabelRow, TransactionRow

HistoryRow = tuple[str, datetime, float, str | None, str | None]


def latest_transaction_time(engine: Engine) -> datetime | None:
    """When the newest stored transaction happened."""
    with engine.connect() as connection:
        return connection.scalar(select(func.max(TransactionRow.occurred_at)))


def transactions_since(
    engine: Engine, since: datetime, chunk: int = 10_000
) -> Iterator[HistoryRow]:
    """(id, time, amount, card token, terminal) of every transaction from ``since``, in time order."""
    statement = (
        select(
            TransactionRow.transaction_id,
            TransactionRow.occurred_at,
            TransactionRow.amount,
            TransactionRow.card_token,
            TransactionRow.terminal_id,
        )
        .where(TransactionRow.occurred_at >= since)
        .order_by(TransactionRow.occurred_at, TransactionRow.id)
        .execution_options(yield_per=chunk)
    )
    with engine.connect() as connection:
        for row in connection.execute(statement):
            yield row[0], row[1], float(row[2]), row[3], row[4]


def frauds_since(engine: Engine, since: datetime) -> Iterator[tuple[str, datetime, str | None]]:
    """(id, time, terminal) of the transactions from ``since`` that some label calls fraud."""
    statement = (
        select(
            TransactionRow.transaction_id, TransactionRow.occurred_at, TransactionRow.terminal_id
        )
        .join(LabelRow, LabelRow.transaction_id == TransactionRow.transaction_id)
        .where(TransactionRow.occurred_at >= since, LabelRow.is_fraud.is_(True))
        .distinct()
    )
    with engine.connect() as connection:
        for row in connection.execute(statement):
            yield row[0], row[1], row[2]


def window_start(latest: datetime, reach_ms: int) -> datetime:
    """The start of the window of history that state of ``reach_ms`` needs."""
    return latest - timedelta(milliseconds=reach_ms)
