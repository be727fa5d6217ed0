"""Simulated histories in the feature frame layout."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from txguard.features.batch import time_order
from txguard.simulation import SimulationParams, simulate


def feature_frame(simulated: pd.DataFrame) -> pd.DataFrame:
    """A simulator frame as the feature frame, in processing order."""
    frame = pd.DataFrame(
        {
            "transaction_id": simulated["TRANSACTION_ID"].astype(str),
            "time_ms": simulated["TX_DATETIME"].astype("datetime64[ms]").astype(np.int64),
            "amount": simulated["TX_AMOUNT"].astype(np.float64),
            "card": simulated["CUSTOMER_ID"].astype(str).astype(object),
            "terminal": simulated["TERMINAL_ID"].astype(str).astype(object),
            "is_fraud": simulated["TX_FRAUD"].astype(np.float64),
        }
    )
    return frame.iloc[time_order(frame["time_ms"])].reset_index(drop=True)


@pytest.fixture(scope="session")
def parity_history() -> pd.DataFrame:
    """About 100,000 simulated transactions over 110 days, with all three fraud scenarios."""
    params = SimulationParams(
        customers=500, terminals=1000, days=110, start_date=date(2018, 4, 1), seed=3
    )
    return feature_frame(simulate(params))


@pytest.fixture(scope="session")
def causal_history() -> pd.DataFrame:
    """A smaller history for the causality tests, which replay it several times."""
    params = SimulationParams(
        customers=200, terminals=300, days=50, start_date=date(2018, 4, 1), seed=11
    )
    return feature_frame(simulate(params))
