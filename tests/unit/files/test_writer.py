"""Writing a transaction frame: the format follows the extension and the bytes follow the frame."""

from pathlib import Path

import pandas as pd
import pytest

from txguard.domain.errors import InputError
from txguard.files.writer import write_frame
from txguard.simulation import SimulationParams, simulate


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate(SimulationParams(customers=60, terminals=120, days=10, seed=3))


def test_parquet_round_trip_keeps_values_and_dtypes(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "out" / "tx.parquet"
    write_frame(frame, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)


def test_csv_round_trip_keeps_values(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    write_frame(frame, path)
    read = pd.read_csv(path)
    read["TX_DATETIME"] = pd.to_datetime(read["TX_DATETIME"], format="%Y-%m-%d %H:%M:%S").astype(
        "datetime64[ns]"
    )
    pd.testing.assert_frame_equal(read, frame, check_exact=False, rtol=1e-12)


def test_csv_has_a_header_and_second_resolution_datetimes(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "tx.csv"
    write_frame(frame, path)
    header, first = path.read_text().splitlines()[:2]
    assert header == ",".join(frame.columns)
    timestamp = frame["TX_DATETIME"].iloc[0].strftime("%Y-%m-%d %H:%M:%S")
    assert first.startswith(f"0,{timestamp},")
    assert b"\r" not in path.read_bytes()


@pytest.mark.parametrize("name", ["tx.parquet", "tx.csv", "TX.CSV"])
def test_the_same_frame_gives_the_same_bytes(
    frame: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    first, second = tmp_path / "a" / name, tmp_path / "b" / name
    write_frame(frame, first)
    write_frame(frame.copy(), second)
    assert first.read_bytes() == second.read_bytes()


def test_an_existing_file_is_replaced_and_no_partial_file_is_left(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "tx.parquet"
    path.write_text("old")
    write_frame(frame, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    assert [p.name for p in tmp_path.iterdir()] == ["tx.parquet"]


@pytest.mark.parametrize(("name", "shown"), [("tx.json", "'.json'"), ("tx", "no extension")])
def test_an_unknown_extension_is_refused_naming_the_accepted_ones(
    frame: pd.DataFrame, tmp_path: Path, name: str, shown: str
) -> None:
    with pytest.raises(InputError, match=r"\.parquet or \.csv") as caught:
        write_frame(frame, tmp_path / name)
    assert shown in str(caught.value)
    assert not any(tmp_path.iterdir())
