"""Closed vocabularies stored in the database and spoken by the API.

Values are the strings stored and sent on the wire, so renaming a member is a migration.
"""

from enum import StrEnum


class CaseStatus(StrEnum):
    """Where a flagged transaction stands in the analyst workflow."""

    NEW = "NEW"
    UNDER_REVIEW = "UNDER_REVIEW"
    CONFIRMED_FRAUD = "CONFIRMED_FRAUD"
    FALSE_POSITIVE = "FALSE_POSITIVE"
    RESOLVED = "RESOLVED"


class Decision(StrEnum):
    """What the payment switch is told to do with a transaction."""

    APPROVE = "approve"
    REVIEW = "review"
    BLOCK = "block"


class RuleAction(StrEnum):
    """What a rule hit does to the decision; ``flag`` only adds a reason."""

    BLOCK = "block"
    REVIEW = "review"
    FLAG = "flag"


class LabelSource(StrEnum):
    """Where a fraud / not-fraud label came from; labels from several sources may coexist."""

    IMPORT = "import"
    ANALYST = "analyst"
    CHARGEBACK = "chargeback"
    DISPUTE = "dispute"


class ModelStatus(StrEnum):
    """Life cycle of a model version under governance."""

    REGISTERED = "registered"
    APPROVED = "approved"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


class Role(StrEnum):
    """Who may do what; SERVICE is for the API keys of machine clients."""

    ANALYST = "ANALYST"
    ADMIN = "ADMIN"
    AUDITOR = "AUDITOR"
    SERVICE = "SERVICE"
