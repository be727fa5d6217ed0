"""The shapes of the audit trail as the API shows it: every field and both hashes."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventOut(BaseModel):
    id: int = Field(description="Position in the chain, from 1.")
    occurred_at: datetime
    actor: str = Field(description="`user:<name>`, `key:<key id>`, `cli` or `system`.")
    action: str = Field(description="What changed, e.g. `rule.saved`, `model.activated`.")
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str = Field(description="The hash of the event before; 64 zeros for the first.")
    hash: str = Field(description="SHA-256 of this event's canonical JSON, prev_hash included.")


class AuditPageOut(BaseModel):
    items: list[AuditEventOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null at the end."
    )
