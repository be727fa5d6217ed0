"""alert queue index holds alerts only

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:00:00

Only a transaction with a case status is an alert, and every alert-queue query says so
(``status IS NOT NULL``), so the queue's index need not hold the approved ones: about 98 % of
scored transactions, each of which cost an insert into it on the authorisation path.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_card_transaction_queue"
COLUMNS = ["status", "risk_score", "occurred_at", "id"]
ALERTS_ONLY = sa.text("status IS NOT NULL")


def upgrade() -> None:
    op.drop_index(NAME, table_name="card_transaction")
    op.create_index(
        NAME, "card_transaction", COLUMNS, postgresql_where=ALERTS_ONLY, sqlite_where=ALERTS_ONLY
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="card_transaction")
    op.create_index(NAME, "card_transaction", COLUMNS)
