"""``txguard import``: a transaction file and its labels into the database, idempotently.

The whole file lands in one database transaction: a bad row found in the last chunk leaves
the database as it was, and importing the same file again adds nothing.
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from txguard.domain.datasets import DatasetSummary
from txguard.domain.enums import LabelSource
from txguard.files.loader import CANONICAL_COLUMNS, open_data_file
from txguard.security.tokens import Tokeniser
from txguard.store import bulk, migrate, summary
from txguard.store.exceptions import MigrationError, StorageError

SOURCE = "import"


@dataclass(frozen=True)
class ImportReport:
    """What an import read and what it added."""

    path: Path
    layout: str
    rows_read: int
    transactions_added: int
    labels_added: int
    seconds: float


def import_file(
    *,
    engine: Engine,
    path: Path,
    tokeniser: Tokeniser,
    label_delay: timedelta = timedelta(days=7),
    chunk_rows: int = 200_000,
    id_prefix: str = "",
) -> ImportReport:
    """Import ``path``; labels count as known ``label_delay`` after their transaction.

    ``id_prefix`` is put before every transaction id, so that files whose ids restart at 0
    (the anonymised layout numbers its rows) can be imported side by side.
    """
    started = time.perf_counter()
    data = open_data_file(path)
    ensure_schema_current(engine)
    rows = added = labels = 0
    try:
        with engine.begin() as connection, bulk.bulk_load(connection) as writer:
            for chunk in data.chunks(rows=chunk_rows):
                if id_prefix:
                    chunk["transaction_id"] = id_prefix + chunk["transaction_id"]
                rows += len(chunk)
                added += writer.insert_transactions(_transactions(chunk, tokeniser))
                labels += writer.insert_labels(_labels(chunk, label_delay))
    except (SQLAlchemyError, StorageError) as exc:
        raise StorageError(f"import of {path} failed, nothing was added: {exc}") from exc
    seconds = time.perf_counter() - started
    return ImportReport(path, data.layout.name, rows, added, labels, seconds)


def ensure_schema_current(engine: Engine) -> None:
    """Refuse to write into a database whose schema this code does not know."""
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        raise MigrationError(
            f"the database schema is at {current or 'nothing'} but this txguard needs {head}: "
            "run `txguard migrate` first"
        )


def _transactions(chunk: pd.DataFrame, tokeniser: Tokeniser) -> pd.DataFrame:
    tokens = tokeniser.tokens(chunk["card_id"].dropna().unique().tolist())
    feature_columns = [c for c in chunk.columns if c not in CANONICAL_COLUMNS]
    return pd.DataFrame(
        {
            "transaction_id": chunk["transaction_id"],
            "occurred_at": chunk["occurred_at"],
            "amount": chunk["amount"],
            "card_token": chunk["card_id"].map(tokens, na_action="ignore"),
            "terminal_id": chunk["terminal_id"],
            "features": _feature_documents(chunk, feature_columns),
            "source": SOURCE,
        }
    )


def _feature_documents(chunk: pd.DataFrame, columns: list[str]) -> list[dict[str, float] | None]:
    if not columns:
        return [None] * len(chunk)
    values = chunk[columns].astype(object)
    return values.where(values.notna(), None).to_dict(orient="records")  # type: ignore[return-value]


def _labels(chunk: pd.DataFrame, delay: timedelta) -> pd.DataFrame:
    known = chunk[chunk["is_fraud"].notna()]
    return pd.DataFrame(
        {
            "transaction_id": known["transaction_id"],
            "is_fraud": known["is_fraud"].astype(bool),
            "source": LabelSource.IMPORT.value,
            "known_at": known["occurred_at"] + delay,
            "fraud_scenario": known["fraud_scenario"],
        }
    )


def summarise(engine: Engine) -> DatasetSummary:
    """What the database holds now."""
    return summary.dataset_summary(engine)
