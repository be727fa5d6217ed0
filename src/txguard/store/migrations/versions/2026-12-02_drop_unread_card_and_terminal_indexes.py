"""drop the card and terminal indexes no query reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:00:00

``card_transaction`` had an index on (card_token, occurred_at) and one on (terminal_id,
occurred_at) from the first schema, and no query of txguard's reads either: the online
features keep each card's and terminal's recent history themselves, and analysts reach a
transaction by its id or through the alert queue. Each was a random page written per scored
transaction: together they cost about a fifth of a decision batch's time (a batch of 1,000
went from 127 to 108 ms, one of 32 from 5.6 to 4.1 ms, bench/RESULTS.md). A feature that
reads by card or terminal (a card's history for the analyst) adds its index back with it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_card_transaction_card_token_occurred_at": ["card_token", "occurred_at"],
    "ix_card_transaction_terminal_id_occurred_at": ["terminal_id", "occurred_at"],
}


def upgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="card_transaction")


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "card_transaction", columns)
