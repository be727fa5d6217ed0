import pytest

from txguard.domain.errors import InputError
from txguard.files.exceptions import DataFileError
from txguard.files.layouts import (
    ANONYMISED,
    LAYOUTS,
    SIMULATOR,
    Layout,
    TimeKind,
    detect_layout,
)

SIMULATOR_HEADER = [
    "TRANSACTION_ID",
    "TX_DATETIME",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "TX_AMOUNT",
    "TX_TIME_SECONDS",
    "TX_TIME_DAYS",
    "TX_FRAUD",
    "TX_FRAUD_SCENARIO",
]
ANONYMISED_HEADER = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (SIMULATOR_HEADER, SIMULATOR),
        (SIMULATOR_HEADER[:5], SIMULATOR),
        (list(reversed(SIMULATOR_HEADER)), SIMULATOR),
        (["notes", *SIMULATOR_HEADER, "merchant"], SIMULATOR),
        (ANONYMISED_HEADER, ANONYMISED),
        (ANONYMISED_HEADER[:-1], ANONYMISED),
        (["Amount", *reversed(ANONYMISED_HEADER[:-2])], ANONYMISED),
    ],
)
def test_detects_the_layout_from_the_header_in_any_order(
    header: list[str], expected: Layout
) -> None:
    assert detect_layout(header, path="data.csv") is expected


def test_a_missing_column_is_named_with_the_closest_layout() -> None:
    header = [c for c in SIMULATOR_HEADER if c != "TX_AMOUNT"]

    with pytest.raises(DataFileError) as caught:
        detect_layout(header, path="data.csv")

    assert str(caught.value) == (
        "data.csv: not a simulator-layout file: missing column TX_AMOUNT (found: "
        "TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_TIME_SECONDS, "
        "TX_TIME_DAYS, TX_FRAUD, TX_FRAUD_SCENARIO)"
    )
    assert caught.value.column is None
    assert caught.value.row is None
    assert isinstance(caught.value, InputError)


def test_several_missing_columns_are_all_named() -> None:
    header = ["Time", *(f"V{i}" for i in range(1, 27)), "Class"]

    with pytest.raises(
        DataFileError, match=r"not an anonymised-layout file: missing columns V27, V28, Amount \("
    ) as caught:
        detect_layout(header, path="card.parquet")

    assert caught.value.path.name == "card.parquet"


def test_a_long_header_is_shortened_in_the_message() -> None:
    header = [f"col{i}" for i in range(20)]

    with pytest.raises(DataFileError, match=r"\(found: col0, col1, .*, col11, \.\.\.\)$"):
        detect_layout(header, path="data.csv")


def test_a_header_of_no_known_layout_is_compared_with_the_first_layout() -> None:
    with pytest.raises(DataFileError) as caught:
        detect_layout(["a", "b"], path="data.csv")

    assert str(caught.value) == (
        "data.csv: not a simulator-layout file: missing columns TRANSACTION_ID, TX_DATETIME, "
        "CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT (found: a, b)"
    )


def test_the_closest_layout_is_the_one_with_most_known_columns() -> None:
    header = ["TX_AMOUNT", "Time", "Amount", "Class"]

    with pytest.raises(
        DataFileError, match="^data.csv: not an anonymised-layout file: missing columns V1, "
    ):
        detect_layout(header, path="data.csv")


def test_card_and_terminal_flags() -> None:
    assert SIMULATOR.has_cards and SIMULATOR.has_terminals
    assert not ANONYMISED.has_cards and not ANONYMISED.has_terminals


def test_columns_to_read_keeps_the_header_order_and_skips_what_is_unused() -> None:
    header = ["TX_FRAUD", "notes", *SIMULATOR_HEADER[:5], "TX_TIME_SECONDS"]

    assert SIMULATOR.columns_to_read(header) == (
        "TX_FRAUD",
        "TRANSACTION_ID",
        "TX_DATETIME",
        "CUSTOMER_ID",
        "TERMINAL_ID",
        "TX_AMOUNT",
    )


def test_the_anonymised_layout_reads_its_features() -> None:
    assert ANONYMISED.features == tuple(f"V{i}" for i in range(1, 29))
    assert ANONYMISED.columns_to_read(ANONYMISED_HEADER) == tuple(ANONYMISED_HEADER)
    assert ANONYMISED.transaction_id is None


def test_a_third_layout_is_a_few_lines() -> None:
    bank = Layout(
        name="bank",
        required=("id", "ts", "amt"),
        optional=("pan",),
        transaction_id="id",
        time="ts",
        time_kind=TimeKind.DATETIME,
        amount="amt",
        card_id="pan",
    )

    assert detect_layout(["amt", "ts", "id"], path="x.csv", layouts=(*LAYOUTS, bank)) is bank
    assert bank.has_cards and not bank.has_terminals


def test_a_layout_cannot_map_a_column_it_does_not_declare() -> None:
    with pytest.raises(ValueError, match=r"\['amount'\] are neither required nor optional"):
        Layout(
            name="broken",
            required=("ts",),
            time="ts",
            time_kind=TimeKind.DATETIME,
            amount="amount",
        )
