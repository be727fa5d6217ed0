from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from txguard.domain.errors import InputError
from txguard.files.exceptions import DataFileError
from txguard.files.layouts import ANONYMISED, SIMULATOR
from txguard.files.loader import (
    ANONYMISED_TIME_ORIGIN,
    CANONICAL_COLUMNS,
    open_data_file,
    read_transactions,
)

FrameFactory = Callable[..., pd.DataFrame]
FileWriter = Callable[..., Path]

V_COLUMNS = [f"V{i}" for i in range(1, 29)]
SIMULATOR_DTYPES = {
    "transaction_id": "object",
    "occurred_at": "datetime64[ns, UTC]",
    "card_id": "object",
    "terminal_id": "object",
    "amount": "float64",
    "is_fraud": "Int8",
    "fraud_scenario": "Int8",
}


def _error(path: Path, rows: int = 200_000) -> DataFileError:
    with pytest.raises(DataFileError) as caught:
        read_transactions(path, rows=rows)
    return caught.value


# --- the canonical frame --------------------------------------------------------------------


def test_simulator_file_gives_the_canonical_frame(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(3), suffix)

    frame = read_transactions(path)

    assert {c: str(t) for c, t in frame.dtypes.items()} == SIMULATOR_DTYPES
    assert tuple(frame.columns) == CANONICAL_COLUMNS
    assert frame["transaction_id"].tolist() == ["0", "1", "2"]
    assert frame["card_id"].tolist() == ["0", "1", "2"]
    assert frame["terminal_id"].tolist() == ["0", "7", "3"]
    assert all(type(v) is str for v in frame["transaction_id"])
    assert frame["occurred_at"].iloc[1] == pd.Timestamp("2018-04-01 00:37:32", tz="UTC")
    assert frame["amount"].tolist() == [5.5, 127.88, 250.25]
    assert frame["is_fraud"].tolist() == [0, 1, 0]
    assert frame["fraud_scenario"].tolist() == [0, 1, 0]


def test_csv_and_parquet_of_the_same_data_give_equal_frames(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data = simulator_factory(50, CUSTOMER_ID=[None, *range(49)])
    csv, parquet = write_frame(data, ".csv"), write_frame(data, ".parquet")

    pd.testing.assert_frame_equal(read_transactions(csv), read_transactions(parquet))


def test_anonymised_csv_and_parquet_give_equal_frames(
    anonymised_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data = anonymised_factory(20)
    csv, parquet = write_frame(data, ".csv"), write_frame(data, ".parquet")

    pd.testing.assert_frame_equal(read_transactions(csv), read_transactions(parquet))


def test_anonymised_file_gives_row_ids_times_from_the_origin_and_features(
    anonymised_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = anonymised_factory(5)
    path = write_frame(data, suffix)

    frame = read_transactions(path, rows=2)

    assert tuple(frame.columns) == (*CANONICAL_COLUMNS, *V_COLUMNS)
    assert frame["transaction_id"].tolist() == ["0", "1", "2", "3", "4"]
    assert frame["occurred_at"].iloc[3] == pd.Timestamp("2013-09-01 00:00:31.5", tz="UTC")
    assert frame["card_id"].isna().all() and frame["terminal_id"].isna().all()
    assert frame["card_id"].tolist() == [None] * 5
    assert frame["fraud_scenario"].isna().all()
    assert frame["is_fraud"].tolist() == [0, 1, 0, 1, 0]
    assert (frame[V_COLUMNS].dtypes == "float64").all()
    np.testing.assert_allclose(frame["V7"], data["V7"])
    np.testing.assert_allclose(frame["amount"], data["Amount"])


@pytest.mark.parametrize(
    "origin",
    [
        datetime(2020, 1, 1, 12, tzinfo=UTC),
        datetime(2020, 1, 1, 13, tzinfo=timezone(timedelta(hours=1))),
        datetime(2020, 1, 1, 12),
    ],
)
def test_time_origin_moves_the_anonymised_times(
    anonymised_factory: FrameFactory, write_frame: FileWriter, origin: datetime
) -> None:
    path = write_frame(anonymised_factory(2), ".csv")

    frame = read_transactions(path, time_origin=origin)

    assert frame["occurred_at"].tolist() == [
        pd.Timestamp("2020-01-01 12:00:00", tz="UTC"),
        pd.Timestamp("2020-01-01 12:00:10.5", tz="UTC"),
    ]


def test_the_default_time_origin_is_the_month_of_the_public_dataset() -> None:
    assert datetime(2013, 9, 1, tzinfo=UTC) == ANONYMISED_TIME_ORIGIN


def test_csv_ids_are_kept_as_written(write_text: FileWriter) -> None:
    path = write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\n"
        "007,2018-04-01 00:00:31,00042,NA,1.5\n"
        "12,2018-04-01 00:00:32,,null,2\n"
    )

    frame = read_transactions(path)

    assert frame["transaction_id"].tolist() == ["007", "12"]
    assert frame["card_id"].tolist() == ["00042", None]
    assert frame["terminal_id"].tolist() == ["NA", "null"]


def test_empty_card_and_terminal_become_none(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = simulator_factory(3, CUSTOMER_ID=["5", None, "7"], TERMINAL_ID=[None, "9", ""])
    frame = read_transactions(write_frame(data, suffix))

    assert frame["card_id"].tolist() == ["5", None, "7"]
    assert frame["terminal_id"].tolist() == [None, "9", None]


def test_parquet_integer_ids_with_gaps_still_read_as_digits(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data = simulator_factory(3, CUSTOMER_ID=[12, None, 3_000_000_000])
    data["CUSTOMER_ID"] = data["CUSTOMER_ID"].astype("float64")

    frame = read_transactions(write_frame(data, ".parquet"))

    assert frame["card_id"].tolist() == ["12", None, "3000000000"]


def test_parquet_categorical_columns_are_read_as_their_values(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data = simulator_factory(3)
    data["TERMINAL_ID"] = pd.Categorical(["a", "b", "a"])

    frame = read_transactions(write_frame(data, ".parquet"))

    assert frame["terminal_id"].tolist() == ["a", "b", "a"]
    assert frame["terminal_id"].dtype == object


def test_a_file_without_labels_has_unknown_labels(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = simulator_factory(3).drop(columns=["TX_FRAUD", "TX_FRAUD_SCENARIO"])
    path = write_frame(data, suffix)

    data_file = open_data_file(path)
    frame = read_transactions(path)

    assert not data_file.has_labels
    assert frame["is_fraud"].dtype == "Int8"
    assert frame["is_fraud"].isna().all()
    assert frame["fraud_scenario"].isna().all()


def test_a_file_with_labels_has_labels_and_empty_ones_are_unknown(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = simulator_factory(3, TX_FRAUD=[1.0, None, 0.0], TX_FRAUD_SCENARIO=[2.0, None, 0.0])
    path = write_frame(data, suffix)

    frame = read_transactions(path)

    assert open_data_file(path).has_labels
    assert frame["is_fraud"].tolist() == [1, pd.NA, 0]
    assert frame["fraud_scenario"].tolist() == [2, pd.NA, 0]


def test_column_order_and_extra_columns_do_not_matter(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = simulator_factory(4)
    shuffled = data[list(reversed(data.columns))].assign(notes="x", merchant=1)

    plain = read_transactions(write_frame(data, suffix, "plain"))
    other = read_transactions(write_frame(shuffled, suffix, "shuffled"))

    pd.testing.assert_frame_equal(plain, other)


def test_a_spreadsheet_csv_with_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbfTRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\r\n"
        b"1,2018-04-01,1,1,1.5\r\n"
    )

    frame = read_transactions(path)

    assert frame["transaction_id"].tolist() == ["1"]
    assert frame["amount"].tolist() == [1.5]


def test_naive_and_aware_datetimes_in_csv(write_text: FileWriter) -> None:
    path = write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\n"
        "1,2018-04-01 00:00:31,1,1,1\n"
        "2,2018-04-01T02:00:31+02:00,1,1,1\n"
        "3,2018-04-01T00:00:31Z,1,1,1\n"
        "4,2018-04-01,1,1,1\n"
    )

    occurred = read_transactions(path)["occurred_at"]

    assert occurred.tolist()[:3] == [pd.Timestamp("2018-04-01 00:00:31", tz="UTC")] * 3
    assert occurred.iloc[3] == pd.Timestamp("2018-04-01", tz="UTC")


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Brussels"])
def test_naive_and_aware_timestamps_in_parquet(
    simulator_factory: FrameFactory, write_frame: FileWriter, tz: str | None
) -> None:
    data = simulator_factory(2)
    data["TX_DATETIME"] = pd.DatetimeIndex(["2018-04-01 02:00:31"] * 2).tz_localize(tz)

    occurred = read_transactions(write_frame(data, ".parquet"))["occurred_at"]

    expected = pd.Timestamp("2018-04-01 02:00:31", tz=tz or "UTC").tz_convert("UTC")
    assert occurred.tolist() == [expected] * 2
    assert str(occurred.dtype) == "datetime64[ns, UTC]"


def test_parquet_dates_as_text_are_parsed(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data = simulator_factory(2, TX_DATETIME=["2018-04-01 00:00:31", "2018-04-02T00:00:00+01:00"])

    occurred = read_transactions(write_frame(data, ".parquet"))["occurred_at"]

    assert occurred.tolist() == [
        pd.Timestamp("2018-04-01 00:00:31", tz="UTC"),
        pd.Timestamp("2018-04-01 23:00:00", tz="UTC"),
    ]


def test_chunks_are_bounded_in_file_order_and_indexed_by_file_position(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(7), suffix)

    chunks = list(open_data_file(path).chunks(rows=3))

    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [c.index[0] for c in chunks] == [0, 3, 6]
    assert pd.concat(chunks)["transaction_id"].tolist() == [str(i) for i in range(7)]


def test_chunks_can_be_read_again(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data_file = open_data_file(write_frame(simulator_factory(5), suffix))

    first = pd.concat(data_file.chunks(rows=2))
    second = pd.concat(data_file.chunks(rows=2))

    pd.testing.assert_frame_equal(first, second)


def test_a_header_only_file_gives_an_empty_canonical_frame(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(0), suffix)

    frame = read_transactions(path)

    assert len(frame) == 0
    assert {c: str(t) for c, t in frame.dtypes.items()} == SIMULATOR_DTYPES


def test_open_reports_the_layout_and_header(
    simulator_factory: FrameFactory,
    anonymised_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
) -> None:
    simulator = open_data_file(write_frame(simulator_factory(2), suffix, "sim"))
    anonymised = open_data_file(str(write_frame(anonymised_factory(2), suffix, "card")))

    assert simulator.layout is SIMULATOR
    assert anonymised.layout is ANONYMISED
    assert anonymised.header[0] == "Time"
    assert isinstance(anonymised.path, Path)


def test_a_chunk_size_below_one_is_a_programming_error(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    data_file = open_data_file(write_frame(simulator_factory(2), ".csv"))

    with pytest.raises(ValueError, match="rows must be at least 1"):
        next(data_file.chunks(rows=0))


# --- files that cannot be read ----------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"

    error = _error(path)

    assert str(error) == f"{path}: the file does not exist"
    assert error.path == path and error.column is None and error.row is None
    assert isinstance(error, InputError)


def test_a_directory(tmp_path: Path) -> None:
    (tmp_path / "data.csv").mkdir()

    assert str(_error(tmp_path / "data.csv")).endswith(": not a file")


@pytest.mark.parametrize(("name", "shown"), [("data.txt", "'.txt'"), ("data", "'no extension'")])
def test_an_unsupported_extension(write_text: FileWriter, name: str, shown: str) -> None:
    path = write_text("TRANSACTION_ID\n1\n", name)

    assert str(_error(path)) == (
        f"{path}: unsupported file type {shown}: expected .csv or .parquet"
    )


def test_the_extension_is_not_case_sensitive(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    path = write_frame(simulator_factory(2), ".PARQUET")

    assert len(read_transactions(path)) == 2


@pytest.mark.parametrize("name", ["data.csv", "data.parquet"])
def test_an_empty_file(write_text: FileWriter, name: str) -> None:
    path = write_text("", name)

    assert str(_error(path)) == f"{path}: the file is empty (no header)"


def test_a_csv_of_blank_lines_has_no_header(write_text: FileWriter) -> None:
    path = write_text("\n\n")

    assert str(_error(path)) == f"{path}: the file is empty (no header)"


def test_a_corrupt_parquet_file(write_text: FileWriter) -> None:
    path = write_text("TRANSACTION_ID,TX_AMOUNT\n1,2\n", "data.parquet")

    message = str(_error(path))

    assert message.startswith(f"{path}: not a readable Parquet file (")
    assert "Traceback" not in message and "\n" not in message


def test_a_parquet_file_named_csv(
    simulator_factory: FrameFactory, write_frame: FileWriter, tmp_path: Path
) -> None:
    parquet = write_frame(simulator_factory(2), ".parquet")
    path = parquet.rename(tmp_path / "data.csv")

    assert str(_error(path)) == f"{path}: not a CSV file: it is not UTF-8 text"


def test_a_malformed_csv_row(write_text: FileWriter) -> None:
    path = write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\n"
        "1,2018-04-01,1,1,1\n"
        "2,2018-04-01,1,1,1,9,9\n"
    )

    message = str(_error(path))

    assert message.startswith(f"{path}: not a readable CSV file (")
    assert "line 3" in message


def test_a_missing_required_column_is_named(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(2).drop(columns=["TX_AMOUNT"]), suffix)

    with pytest.raises(
        DataFileError, match="not a simulator-layout file: missing column TX_AMOUNT"
    ):
        open_data_file(path)


# --- bad values: one message naming the column, the row and the value -------------------------


def test_the_message_names_file_column_row_and_value(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(4, TX_AMOUNT=[1.0, 2.0, -3.5, 4.0]), suffix)

    error = _error(path)

    assert str(error) == f"{path}: column TX_AMOUNT, row 3: amount is negative (got -3.5)"
    assert (error.path, error.column, error.row) == (path, "TX_AMOUNT", 3)


@pytest.mark.parametrize(
    ("ids", "row"),
    [(["1", None, "3"], 2), (["1", "2", ""], 3)],
)
def test_a_missing_transaction_id(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str, ids: list[str], row: int
) -> None:
    path = write_frame(simulator_factory(3, TRANSACTION_ID=ids), suffix)

    error = _error(path)

    assert (error.column, error.row) == ("TRANSACTION_ID", row)
    assert "missing transaction id" in str(error)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2018-13-45 99:00:00", "not an ISO 8601 date-time"),
        ("yesterday", "not an ISO 8601 date-time"),
        ("now", "not an ISO 8601 date-time"),
    ],
)
def test_a_bad_date(
    simulator_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
    value: str,
    problem: str,
) -> None:
    dates = ["2018-04-01 00:00:31", "2018-04-01 00:00:32", value]
    path = write_frame(simulator_factory(3, TX_DATETIME=dates), suffix)

    error = _error(path)

    assert str(error).startswith(f"{path}: column TX_DATETIME, row 3: {problem}")
    assert str(error).endswith(f"(got {value!r})")


def test_a_date_beyond_nanosecond_timestamps(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    dates = ["2018-04-01 00:00:31", "3000-01-01 00:00:00"]
    path = write_frame(simulator_factory(2, TX_DATETIME=dates), suffix)

    error = _error(path)

    assert (error.column, error.row) == ("TX_DATETIME", 2)
    assert str(error).endswith("(got '3000-01-01 00:00:00')")
    # pandas 3 parses the date and it is out of range; pandas 2 cannot parse it at all.
    assert error.problem.startswith(("date-time is outside the years", "not an ISO 8601"))


def test_a_missing_date(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(2, TX_DATETIME=["2018-04-01", None]), suffix)

    assert str(_error(path)) == f"{path}: column TX_DATETIME, row 2: missing date-time"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("soon", "time is not a number"),
        ("inf", "time is not finite"),
        (None, "time is missing"),
        ("1e20", "time is too far from the time origin for a date"),
    ],
)
def test_a_bad_anonymised_time(
    anonymised_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
    value: str | None,
    problem: str,
) -> None:
    path = write_frame(anonymised_factory(3, Time=["0", "1.5", value]), suffix)

    error = _error(path)

    assert (error.column, error.row, error.problem) == ("Time", 3, problem)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "amount is not a number (got 'abc')"),
        ("NaN", "amount is not a number (got 'NaN')"),
        ("", "amount is missing"),
        (None, "amount is missing"),
    ],
)
def test_a_bad_amount(
    simulator_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
    value: str | None,
    problem: str,
) -> None:
    path = write_frame(simulator_factory(3, TX_AMOUNT=["1", "2.5", value]), suffix)

    assert str(_error(path)) == f"{path}: column TX_AMOUNT, row 3: {problem}"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (float("nan"), "amount is missing"),
        (float("inf"), "amount is not finite (got inf)"),
        (-1.0, "amount is negative (got -1.0)"),
        (-0.01, "amount is negative (got -0.01)"),
    ],
)
def test_a_bad_numeric_amount(
    simulator_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
    value: float,
    problem: str,
) -> None:
    path = write_frame(simulator_factory(2, TX_AMOUNT=[1.0, value]), suffix)

    assert str(_error(path)) == f"{path}: column TX_AMOUNT, row 2: {problem}"


def test_inf_in_an_otherwise_numeric_csv_column(write_text: FileWriter) -> None:
    path = write_text(
        "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\n"
        "1,2018-04-01,1,1,1.5\n"
        "2,2018-04-01,1,1,inf\n"
    )

    assert str(_error(path)) == f"{path}: column TX_AMOUNT, row 2: amount is not finite (got inf)"


@pytest.mark.parametrize("value", ["2", "yes", "-1", "0.5"])
def test_a_label_that_is_not_0_or_1(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str, value: str
) -> None:
    path = write_frame(simulator_factory(3, TX_FRAUD=["0", "", value]), suffix)

    error = _error(path)

    assert (error.column, error.row) == ("TX_FRAUD", 3)
    assert error.problem == "label must be 0, 1 or empty (unknown)"


def test_an_anonymised_class_that_is_not_0_or_1(
    anonymised_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(anonymised_factory(3, Class=[0, 1, 3]), suffix)

    error = _error(path)

    assert (error.column, error.row) == ("Class", 3)


def test_a_scenario_that_is_not_a_small_whole_number(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(2, TX_FRAUD_SCENARIO=[1.0, 1.5]), suffix)

    assert str(_error(path)) == (
        f"{path}: column TX_FRAUD_SCENARIO, row 2: "
        "fraud scenario must be a whole number from 0 to 127 (got 1.5)"
    )


def test_a_feature_that_is_not_a_number(
    anonymised_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(anonymised_factory(2, V3=["0.1", "x"]), suffix)

    assert str(_error(path)) == f"{path}: column V3, row 2: V3 is not a number (got 'x')"


def test_a_missing_feature_is_allowed(
    anonymised_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(anonymised_factory(2, V3=[0.1, None]), suffix)

    assert np.isnan(read_transactions(path)["V3"].iloc[1])


def test_the_earliest_bad_row_is_reported_whatever_the_column(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    data = simulator_factory(
        4,
        TX_AMOUNT=["1", "2", "3", "-4"],
        TX_DATETIME=["2018-04-01", "2018-04-01", "bad", "2018-04-01"],
    )

    error = _error(write_frame(data, suffix))

    assert (error.column, error.row) == ("TX_DATETIME", 3)


def test_the_row_is_exact_in_a_later_chunk(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    amounts = ["1", "2", "3", "4", "5", "-6", "7"]
    path = write_frame(simulator_factory(7, TX_AMOUNT=amounts), suffix)

    error = _error(path, rows=2)

    assert (error.column, error.row) == ("TX_AMOUNT", 6)


def test_chunks_before_the_bad_one_are_yielded(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    amounts = ["1", "2", "3", "4", "-5"]
    chunks = open_data_file(write_frame(simulator_factory(5, TX_AMOUNT=amounts), suffix)).chunks(2)

    assert len(next(chunks)) == 2
    assert len(next(chunks)) == 2
    with pytest.raises(DataFileError, match="row 5"):
        next(chunks)


# --- duplicate transaction ids -----------------------------------------------------------------


def test_a_duplicate_id_within_a_chunk(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(5, TRANSACTION_ID=["a", "b", "c", "b", "c"]), suffix)

    error = _error(path)

    assert str(error) == (
        f"{path}: column TRANSACTION_ID, row 4: "
        "duplicate transaction id, first seen at row 2 (got 'b')"
    )


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_a_duplicate_id_across_chunks(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str, rows: int
) -> None:
    ids = ["a", "b", "c", "d", "e", "b", "f"]
    path = write_frame(simulator_factory(7, TRANSACTION_ID=ids), suffix)

    error = _error(path, rows=rows)

    assert str(error) == (
        f"{path}: column TRANSACTION_ID, row 6: "
        "duplicate transaction id, first seen at row 2 (got 'b')"
    )


def test_a_repeat_inside_a_chunk_of_an_id_from_an_earlier_chunk(
    simulator_factory: FrameFactory, write_frame: FileWriter, suffix: str
) -> None:
    path = write_frame(simulator_factory(6, TRANSACTION_ID=["a", "b", "c", "a", "a", "d"]), suffix)

    error = _error(path, rows=3)

    assert (error.row, error.problem) == (4, "duplicate transaction id, first seen at row 1")


def test_parquet_integer_ids_are_checked_for_duplicates(
    simulator_factory: FrameFactory, write_frame: FileWriter
) -> None:
    path = write_frame(simulator_factory(4, TRANSACTION_ID=[10, 11, 12, 10]), ".parquet")

    assert _error(path, rows=2).problem == "duplicate transaction id, first seen at row 1"


def test_hash_collisions_are_not_taken_for_duplicates(
    simulator_factory: FrameFactory,
    write_frame: FileWriter,
    suffix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every id hashes alike here, so only the exact check on re-reading can tell them apart."""
    monkeypatch.setattr(pd.util, "hash_array", lambda values, **_: np.zeros(len(values), np.uint64))
    unique = write_frame(simulator_factory(6), suffix, "unique")
    repeated = write_frame(simulator_factory(6, TRANSACTION_ID=list("abcdeb")), suffix, "repeated")

    assert len(read_transactions(unique, rows=2)) == 6
    assert (_error(repeated, rows=2).row, _error(repeated, rows=4).row) == (6, 6)
    assert "first seen at row 2" in str(_error(repeated, rows=2))


def test_anonymised_files_have_no_ids_to_repeat(
    anonymised_factory: FrameFactory, write_frame: FileWriter
) -> None:
    path = write_frame(anonymised_factory(5), ".csv")

    assert read_transactions(path, rows=2)["transaction_id"].is_unique


# --- the error itself --------------------------------------------------------------------------


def test_a_message_without_column_or_row() -> None:
    assert str(DataFileError("x.csv", "broken")) == "x.csv: broken"


def test_a_message_with_a_row_but_no_column() -> None:
    error = DataFileError("x.csv", "broken", row=3, value=None)

    assert str(error) == "x.csv: row 3: broken (got None)"
    assert error.path == Path("x.csv")
