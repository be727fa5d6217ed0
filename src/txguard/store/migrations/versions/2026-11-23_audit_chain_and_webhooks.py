"""audit chain without forks, webhook replay protection

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.create_unique_constraint(op.f("uq_audit_event_prev_hash"), ["prev_hash"])
    op.create_table(
        "seen_signature",
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_seen_signature")),
    )
    op.create_index(
        op.f("ix_seen_signature_received_at"), "seen_signature", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_signature_received_at"), table_name="seen_signature")
    op.drop_table("seen_signature")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint(op.f("uq_audit_event_prev_hash"), type_="unique")
