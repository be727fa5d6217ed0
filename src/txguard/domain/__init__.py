"""Plain types shared by every layer. Imports nothing of ours and does no I/O."""

from txguard.domain.enums import CaseStatus, Decision, LabelSource, ModelStatus, Role, RuleAction
from txguard.domain.errors import ConfigurationError, InputError, NotFoundError, TxguardError

__all__ = [
    "CaseStatus",
    "ConfigurationError",
    "Decision",
    "InputError",
    "LabelSource",
    "ModelStatus",
    "NotFoundError",
    "Role",
    "RuleAction",
    "TxguardError",
]
