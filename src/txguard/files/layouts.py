"""The column layouts a transaction file may have, and how to tell them apart by the header.

A layout is data, not code: it maps each canonical field to the column that holds it in the
file, so a third layout is one more ``Layout(...)`` in ``LAYOUTS``. Detection looks only at the
header, because file names lie (``export_final2.csv``) and the header does not.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from txguard.files.exceptions import DataFileError

__all__ = [
    "ANONYMISED",
    "ANONYMISED_TIME_ORIGIN",
    "LAYOUTS",
    "SIMULATOR",
    "Layout",
    "TimeKind",
    "detect_layout",
]

ANONYMISED_TIME_ORIGIN = datetime(2013, 9, 1, tzinfo=UTC)
"""The month the public anonymised card dataset was collected: its ``Time`` counts from here."""

_FOUND_SHOWN = 12


class TimeKind(Enum):
    """How a layout writes when a transaction happened."""

    DATETIME = "datetime"
    """ISO 8601 text or a timestamp column; naive values are UTC."""
    SECONDS = "seconds"
    """Seconds since a time origin given when the file is opened."""


@dataclass(frozen=True)
class Layout:
    """The columns of one file layout and which canonical field each one feeds.

    ``required`` must all be in the header. ``optional`` are the other columns the layout
    knows; a field mapped to an absent optional column is left empty (``None`` / ``<NA>``).
    Columns of neither kind are ignored. A ``None`` ``transaction_id`` means the layout has no
    ids and the 0-based row index stands in for them.
    """

    name: str
    required: tuple[str, ...]
    time: str
    time_kind: TimeKind
    amount: str
    optional: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    transaction_id: str | None = None
    card_id: str | None = None
    terminal_id: str | None = None
    is_fraud: str | None = None
    fraud_scenario: str | None = None

    def __post_init__(self) -> None:
        known = set(self.required) | set(self.optional)
        unknown = [c for c in self._mapped() if c not in known]
        if unknown:
            raise ValueError(f"layout {self.name}: {unknown} are neither required nor optional")

    @property
    def has_cards(self) -> bool:
        return self.card_id is not None

    @property
    def has_terminals(self) -> bool:
        return self.terminal_id is not None

    def columns_to_read(self, header: Iterable[str]) -> tuple[str, ...]:
        """The columns this layout uses that the header has, in the header's order."""
        wanted = set(self._mapped())
        return tuple(c for c in header if c in wanted)

    def missing(self, header: Iterable[str]) -> tuple[str, ...]:
        found = set(header)
        return tuple(c for c in self.required if c not in found)

    def _mapped(self) -> tuple[str, ...]:
        fields = (
            self.transaction_id,
            self.time,
            self.card_id,
            self.terminal_id,
            self.amount,
            self.is_fraud,
            self.fraud_scenario,
        )
        return tuple(c for c in fields if c is not None) + self.features


SIMULATOR = Layout(
    name="simulator",
    required=("TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT"),
    optional=("TX_FRAUD", "TX_FRAUD_SCENARIO", "TX_TIME_SECONDS", "TX_TIME_DAYS"),
    transaction_id="TRANSACTION_ID",
    time="TX_DATETIME",
    time_kind=TimeKind.DATETIME,
    card_id="CUSTOMER_ID",
    terminal_id="TERMINAL_ID",
    amount="TX_AMOUNT",
    is_fraud="TX_FRAUD",
    fraud_scenario="TX_FRAUD_SCENARIO",
)

_V = tuple(f"V{i}" for i in range(1, 29))
ANONYMISED = Layout(
    name="anonymised",
    required=("Time", *_V, "Amount"),
    optional=("Class",),
    features=_V,
    time="Time",
    time_kind=TimeKind.SECONDS,
    amount="Amount",
    is_fraud="Class",
)

LAYOUTS: tuple[Layout, ...] = (SIMULATOR, ANONYMISED)


def detect_layout(
    header: Iterable[str], *, path: Path | str, layouts: Iterable[Layout] = LAYOUTS
) -> Layout:
    """The first layout whose required columns are all in the header.

    Otherwise the error names the layout the header comes closest to (most known columns)
    and what it lacks, since that is almost always a renamed or dropped column.
    """
    columns = tuple(header)
    candidates = tuple(layouts)
    for layout in candidates:
        if not layout.missing(columns):
            return layout
    closest = max(candidates, key=lambda layout: _known_count(layout, columns))
    raise _not_a_layout(path, closest, columns)


def _known_count(layout: Layout, columns: tuple[str, ...]) -> int:
    known = set(layout.required) | set(layout.optional)
    return sum(c in known for c in columns)


def _not_a_layout(path: Path | str, layout: Layout, columns: tuple[str, ...]) -> DataFileError:
    missing = layout.missing(columns)
    noun = "column" if len(missing) == 1 else "columns"
    found = ", ".join(columns[:_FOUND_SHOWN]) + (", ..." if len(columns) > _FOUND_SHOWN else "")
    article = "an" if layout.name[:1] in "aeiou" else "a"
    kind = f"not {article} {layout.name}-layout file"
    problem = f"{kind}: missing {noun} {', '.join(missing)} (found: {found})"
    return DataFileError(path, problem)
