"""The rules a new installation starts with, so it flags something before analysts write any.

Each only sends a transaction to review: on their own they are signals, not proof, and the
weights keep any one of them below a blocking risk score.
"""

from txguard.domain.enums import RuleAction
from txguard.domain.rules import Rule

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        name="High Value Transaction",
        expression="amount > 5000",
        action=RuleAction.REVIEW,
        weight=30.0,
        reason="Amount above 5,000",
    ),
    Rule(
        name="Suspicious Combo",
        expression='merchant_category == "gambling" and country != card_home_country',
        action=RuleAction.REVIEW,
        weight=40.0,
        reason="Gambling merchant in a country other than the card's home country",
    ),
    Rule(
        name="Card Velocity",
        expression="card_tx_count_1h >= 5",
        action=RuleAction.REVIEW,
        weight=25.0,
        reason="5 or more transactions on the card within an hour",
    ),
)
