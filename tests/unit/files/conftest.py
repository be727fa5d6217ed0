"""Small transaction files written to ``tmp_path``, in both formats and both layouts."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

FrameFactory = Callable[..., pd.DataFrame]
FileWriter = Callable[..., Path]

V_COLUMNS = [f"V{i}" for i in range(1, 29)]


@pytest.fixture(params=[".csv", ".parquet"])
def suffix(request: pytest.FixtureRequest) -> str:
    """Run the test once per supported file format."""
    value: str = request.param
    return value


@pytest.fixture
def simulator_factory() -> FrameFactory:
    """``make(n, **columns)``: a simulator-layout frame of ``n`` rows, columns replaced."""

    def make(n: int = 6, **columns: list[Any]) -> pd.DataFrame:
        seconds = np.arange(n) * 2_221 + 31
        frame = pd.DataFrame(
            {
                "TRANSACTION_ID": np.arange(n),
                "TX_DATETIME": pd.Timestamp("2018-04-01") + pd.to_timedelta(seconds, unit="s"),
                "CUSTOMER_ID": np.arange(n) % 4,
                "TERMINAL_ID": np.arange(n) * 7 % 11,
                "TX_AMOUNT": np.round(np.linspace(5.5, 250.25, n), 2),
                "TX_TIME_SECONDS": seconds,
                "TX_TIME_DAYS": seconds // 86_400,
                "TX_FRAUD": np.arange(n) % 2,
                "TX_FRAUD_SCENARIO": np.arange(n) % 2,
            }
        )
        for name, values in columns.items():
            frame[name] = pd.Series(values, dtype=object)
        return frame

    return make


@pytest.fixture
def anonymised_factory() -> FrameFactory:
    """``make(n, **columns)``: an anonymised-layout frame of ``n`` rows, columns replaced."""

    def make(n: int = 6, **columns: list[Any]) -> pd.DataFrame:
        rng = np.random.default_rng(7)
        frame = pd.DataFrame({"Time": np.arange(n) * 10.5})
        for name in V_COLUMNS:
            frame[name] = rng.normal(size=n)
        frame["Amount"] = np.round(rng.uniform(0, 300, size=n), 2)
        frame["Class"] = np.arange(n) % 2
        for name, values in columns.items():
            frame[name] = pd.Series(values, dtype=object)
        return frame

    return make


@pytest.fixture
def write_frame(tmp_path: Path) -> FileWriter:
    """``write(frame, suffix, name="data")``: the frame as a CSV or Parquet file, no index."""

    def write(frame: pd.DataFrame, suffix: str, name: str = "data") -> Path:
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path

    return write


@pytest.fixture
def write_text(tmp_path: Path) -> FileWriter:
    """``write(text, name="data.csv")``: a file with exactly this text, for what pandas won't write."""

    def write(text: str, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
