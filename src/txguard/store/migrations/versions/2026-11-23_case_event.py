"""case event

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:43:14.954063
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_STATUSES = ("NEW", "UNDER_REVIEW", "CONFIRMED_FRAUD", "FALSE_POSITIVE", "RESOLVED")


def upgrade() -> None:
    op.create_table(
        "case_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.INTEGER(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(*CASE_STATUSES, name="from_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "to_status",
            sa.Enum(*CASE_STATUSES, name="to_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    op.create_index(
        op.f("ix_case_event_transaction_id"), "case_event", ["transaction_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_event_transaction_id"), table_name="case_event")
    op.drop_table("case_event")
