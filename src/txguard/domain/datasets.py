"""What a body of transaction history holds, as reported after an import and by the demo."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetSummary:
    """Counts of transactions, labelled transactions, frauds, and frauds per generator scenario."""

    transactions: int
    labelled: int
    frauds: int
    frauds_by_scenario: dict[int, int] = field(default_factory=dict)

    @property
    def fraud_share(self) -> float:
        """Frauds among labelled transactions; 0 when nothing is labelled."""
        return self.frauds / self.labelled if self.labelled else 0.0
