"""Simulated histories in the feature frame layout."""

from datetime import date

import pandas as pd
import pytest
from tests.fixtures.featureframes import feature_frame

from txguard.simulation import SimulationParams, simulate


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
