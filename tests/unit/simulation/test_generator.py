"""What a statistician would check of the simulator, on a small but meaningful data set.

500 customers, 1,000 terminals and 60 days give about 55,000 transactions: enough for the
distributions to be tested, small enough to run in a second. Fraud is checked exactly
against the day-by-day compromise draws, which the fraud module lets a test recompute, and
against the same transactions generated before any fraud was added.
"""

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy import stats

import txguard.simulation
from txguard.domain.errors import InputError
from txguard.simulation import SimulationParams, simulate
from txguard.simulation.fraud import compromised_customers, compromised_terminals
from txguard.simulation.generator import (
    COLUMNS,
    _draw_amounts,
    customer_profiles,
    generate_transactions,
    terminal_profiles,
)

PARAMS = SimulationParams(
    customers=500, terminals=1000, days=60, start_date=date(2018, 4, 1), seed=7
)
DAY = 86_400
# P(0 <= int(t) < 86,400) for t ~ Normal(43,200, 20,000): int() truncates towards zero.
P_TIME_KEPT = stats.norm.cdf(DAY, DAY / 2, 20_000) - stats.norm.cdf(-1, DAY / 2, 20_000)
SIGNIFICANCE = 1e-3

IntArray = npt.NDArray[np.int64]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate(PARAMS)


@pytest.fixture(scope="module")
def before_fraud() -> pd.DataFrame:
    return generate_transactions(PARAMS)


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return customer_profiles(PARAMS)


@pytest.fixture(scope="module")
def terminals() -> pd.DataFrame:
    return terminal_profiles(PARAMS)


def _cover(draw: Callable[[int, int, int], IntArray], keys: int, window: int) -> IntArray:
    """``cover[day, key]``: how many compromise draws of ``key`` cover ``day``."""
    cover = np.zeros((PARAMS.days, keys), dtype=np.int64)
    for day in range(PARAMS.days):
        for key in draw(PARAMS.seed, day, keys):
            cover[day : day + window, key] += 1
    return cover


@pytest.fixture(scope="module")
def terminal_cover(frame: pd.DataFrame) -> IntArray:
    """Per transaction, how many scenario-2 draws cover its terminal on its day."""
    cover = _cover(compromised_terminals, PARAMS.terminals, 28)
    return cover[frame["TX_TIME_DAYS"], frame["TERMINAL_ID"]]


@pytest.fixture(scope="module")
def card_cover(frame: pd.DataFrame) -> IntArray:
    """Per transaction, how many scenario-3 draws cover its customer on its day."""
    cover = _cover(compromised_customers, PARAMS.customers, 14)
    return cover[frame["TX_TIME_DAYS"], frame["CUSTOMER_ID"]]


# Layout and time


def test_package_exports_params_and_simulate() -> None:
    assert txguard.simulation.__all__ == ["SimulationParams", "simulate"]


def test_columns_are_the_simulator_layout(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == COLUMNS
    assert frame["TX_DATETIME"].dtype == np.dtype("datetime64[ns]")
    assert frame["TX_AMOUNT"].dtype == np.float64
    others = [c for c in COLUMNS if c not in ("TX_DATETIME", "TX_AMOUNT")]
    assert (frame[others].dtypes == np.int64).all()


def test_transaction_ids_number_the_rows_in_time_order(frame: pd.DataFrame) -> None:
    assert (frame["TRANSACTION_ID"].to_numpy() == np.arange(len(frame))).all()
    seconds = frame["TX_TIME_SECONDS"].to_numpy()
    assert (np.diff(seconds) >= 0).all()
    same_second = np.diff(seconds) == 0
    assert (np.diff(frame["CUSTOMER_ID"].to_numpy())[same_second] >= 0).all()


def test_times_are_consistent(frame: pd.DataFrame) -> None:
    seconds = frame["TX_TIME_SECONDS"]
    assert seconds.between(0, PARAMS.days * DAY - 1).all()
    assert (frame["TX_TIME_DAYS"] == seconds // DAY).all()
    expected = pd.Timestamp(PARAMS.start_date) + pd.to_timedelta(seconds, unit="s")
    assert (frame["TX_DATETIME"] == expected).all()


def test_time_of_day_is_a_truncated_normal(frame: pd.DataFrame) -> None:
    time_of_day = frame["TX_TIME_SECONDS"].to_numpy() % DAY
    assert time_of_day.min() >= 0
    assert time_of_day.max() < DAY
    a, b = (0 - DAY / 2) / 20_000, (DAY - DAY / 2) / 20_000
    truncated = stats.truncnorm(a, b, loc=DAY / 2, scale=20_000)
    assert stats.kstest(time_of_day, truncated.cdf).pvalue > SIGNIFICANCE


# Profiles


def test_profiles_follow_their_uniform_laws(
    customers: pd.DataFrame, terminals: pd.DataFrame
) -> None:
    laws = {
        "x": (0, 100),
        "y": (0, 100),
        "mean_amount": (5, 95),
        "mean_nb_tx_per_day": (0, 4),
    }
    for column, (low, width) in laws.items():
        assert stats.kstest(customers[column], stats.uniform(low, width).cdf).pvalue > SIGNIFICANCE
    for column in ("x", "y"):
        assert stats.kstest(terminals[column], stats.uniform(0, 100).cdf).pvalue > SIGNIFICANCE
    assert np.array_equal(customers["std_amount"], customers["mean_amount"] / 2)


def test_available_terminals_are_exactly_those_within_the_radius(
    customers: pd.DataFrame, terminals: pd.DataFrame
) -> None:
    customer_xy = customers[["x", "y"]].to_numpy()
    terminal_xy = terminals[["x", "y"]].to_numpy()
    distances = np.linalg.norm(customer_xy[:, None, :] - terminal_xy[None, :, :], axis=2)
    for row, available in enumerate(customers["available_terminals"]):
        assert np.array_equal(available, np.flatnonzero(distances[row] <= PARAMS.radius))


def test_customers_use_only_terminals_within_the_radius(
    frame: pd.DataFrame, customers: pd.DataFrame, terminals: pd.DataFrame
) -> None:
    customer_xy = customers[["x", "y"]].to_numpy()[frame["CUSTOMER_ID"]]
    terminal_xy = terminals[["x", "y"]].to_numpy()[frame["TERMINAL_ID"]]
    assert (np.linalg.norm(customer_xy - terminal_xy, axis=1) <= PARAMS.radius).all()


def test_terminals_are_drawn_uniformly_among_the_available_ones(
    frame: pd.DataFrame, customers: pd.DataFrame
) -> None:
    """Pooled chi-square over customers: each customer's counts per available terminal."""
    statistic, dof = 0.0, 0
    counts = frame.groupby(["CUSTOMER_ID", "TERMINAL_ID"]).size()
    available_by_customer: list[IntArray] = customers["available_terminals"].tolist()
    for customer in frame["CUSTOMER_ID"].unique().tolist():
        available = available_by_customer[customer]
        observed = counts.loc[customer].reindex(available, fill_value=0).to_numpy()
        expected = observed.sum() / available.size
        statistic += float(((observed - expected) ** 2 / expected).sum())
        dof += available.size - 1
    assert stats.chi2.sf(statistic, dof) > SIGNIFICANCE


def test_a_customer_without_terminals_makes_no_transactions() -> None:
    params = SimulationParams(customers=200, terminals=30, days=20, radius=3.0, seed=1)
    available = customer_profiles(params)["available_terminals"].map(len)
    assert 0 < (available == 0).sum() < len(available)
    active = set(simulate(params)["CUSTOMER_ID"])
    assert active <= set(np.flatnonzero(available.to_numpy()))
    assert not active & set(np.flatnonzero(available.to_numpy() == 0))


# Counts and amounts


def test_daily_counts_are_poisson_thinned_by_dropped_times(
    before_fraud: pd.DataFrame, customers: pd.DataFrame
) -> None:
    has_terminals = customers["available_terminals"].map(len).to_numpy() > 0
    expected = customers["mean_nb_tx_per_day"].to_numpy()[has_terminals] * PARAMS.days * P_TIME_KEPT
    observed = (
        before_fraud["CUSTOMER_ID"]
        .value_counts()
        .reindex(np.flatnonzero(has_terminals), fill_value=0)
    )
    assert abs(observed.sum() - expected.sum()) < 4 * np.sqrt(expected.sum())
    residuals = (observed.to_numpy() - expected) / np.sqrt(expected)
    assert 0.9 < residuals.std() < 1.1
    assert abs(residuals.mean()) < 0.15


def _amount_ratio_cdf(ratio: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """CDF of amount / mean_amount: Normal(1, 1/2) on [0, inf), negatives redrawn on [0, 2].

    Applied to the ratios it must give uniform values (probability integral transform).
    """
    negative = stats.norm.cdf(0, 1, 0.5)
    positive = np.clip(stats.norm.cdf(ratio, 1, 0.5) - negative, 0, None)
    return np.asarray(positive + negative * np.clip(ratio / 2, 0, 1), dtype=np.float64)


def test_amounts_follow_the_customer_profile(
    before_fraud: pd.DataFrame, customers: pd.DataFrame
) -> None:
    amount = before_fraud["TX_AMOUNT"].to_numpy()
    assert (amount >= 0).all()
    assert np.array_equal(np.round(amount, 2), amount)
    ratio = amount / customers["mean_amount"].to_numpy()[before_fraud["CUSTOMER_ID"]]
    assert stats.kstest(_amount_ratio_cdf(ratio), "uniform").pvalue > SIGNIFICANCE


def test_negative_draws_are_redrawn_uniformly_up_to_twice_the_mean() -> None:
    """Only 2.3% of draws are redrawn, so this needs a sample far larger than a data set."""
    amount = _draw_amounts(np.random.default_rng(0), 50.0, 400_000)
    assert stats.kstest(_amount_ratio_cdf(amount / 50.0), "uniform").pvalue > SIGNIFICANCE


def test_large_amounts_are_as_frequent_as_the_profiles_predict(
    before_fraud: pd.DataFrame, customers: pd.DataFrame
) -> None:
    mean = customers["mean_amount"].to_numpy()[before_fraud["CUSTOMER_ID"]]
    expected = float(np.sum(stats.norm.sf(220, mean, mean / 2)))
    observed = (before_fraud["TX_AMOUNT"] > 220).sum()
    assert abs(observed - expected) < 4 * np.sqrt(expected) + 1


# Fraud


def test_fraud_flag_is_set_exactly_for_a_scenario(frame: pd.DataFrame) -> None:
    assert frame["TX_FRAUD_SCENARIO"].isin([0, 1, 2, 3]).all()
    assert (frame["TX_FRAUD"] == (frame["TX_FRAUD_SCENARIO"] > 0)).all()
    assert set(frame["TX_FRAUD_SCENARIO"]) == {0, 1, 2, 3}


def test_scenario_1_is_every_large_amount_no_later_scenario_took(
    frame: pd.DataFrame,
    before_fraud: pd.DataFrame,
    terminal_cover: IntArray,
) -> None:
    large = before_fraud["TX_AMOUNT"].to_numpy() > 220
    scenario = frame["TX_FRAUD_SCENARIO"].to_numpy()
    assert (frame["TX_FRAUD"].to_numpy()[large] == 1).all()
    assert np.array_equal(scenario == 1, large & (terminal_cover == 0) & (scenario != 3))


def test_scenario_2_is_every_transaction_on_a_compromised_terminal_in_its_window(
    frame: pd.DataFrame, terminal_cover: IntArray
) -> None:
    scenario = frame["TX_FRAUD_SCENARIO"].to_numpy()
    compromised = terminal_cover > 0
    assert (frame["TX_FRAUD"].to_numpy()[compromised] == 1).all()
    assert np.array_equal(scenario == 2, compromised & (scenario != 3))


def test_scenario_3_frauds_lie_in_a_compromise_window_of_their_card(
    frame: pd.DataFrame, card_cover: IntArray
) -> None:
    assert (card_cover[frame["TX_FRAUD_SCENARIO"].to_numpy() == 3] > 0).all()


def test_scenario_3_multiplies_the_generated_amount_by_5_per_pick(
    frame: pd.DataFrame, before_fraud: pd.DataFrame, card_cover: IntArray
) -> None:
    """Once per overlapping compromise that picks it, as in the handbook; nothing else changes."""
    picked = frame["TX_FRAUD_SCENARIO"].to_numpy() == 3
    amount, generated = (
        frame["TX_AMOUNT"].to_numpy(),
        before_fraud["TX_AMOUNT"].to_numpy(),
    )
    assert np.array_equal(amount[~picked], generated[~picked])
    once = picked & (card_cover == 1)
    assert once.sum() > 0.9 * picked.sum()
    assert np.array_equal(amount[once], np.round(generated[once] * 5, 2))
    candidates, matched = generated.copy(), np.zeros(len(frame), dtype=bool)
    for _ in range(card_cover.max()):
        candidates = np.round(candidates * 5, 2)
        matched |= amount == candidates
    assert matched[picked].all()


def test_an_isolated_card_compromise_picks_exactly_a_third(frame: pd.DataFrame) -> None:
    """A draw whose customers no other draw within 14 days shares owns its windows alone."""
    draws = [
        set(compromised_customers(PARAMS.seed, d, PARAMS.customers)) for d in range(PARAMS.days)
    ]
    isolated = 0
    for day, drawn in enumerate(draws):
        neighbours = set().union(
            *(draws[d] for d in range(max(0, day - 13), day + 14) if d != day and d < PARAMS.days)
        )
        if drawn & neighbours:
            continue
        window = frame[
            frame["CUSTOMER_ID"].isin(drawn) & frame["TX_TIME_DAYS"].between(day, day + 13)
        ]
        assert (window["TX_FRAUD_SCENARIO"] == 3).sum() == len(window) // 3
        isolated += 1
    assert isolated > PARAMS.days / 2


def test_about_a_third_of_a_compromised_card_window_is_fraud(
    frame: pd.DataFrame, card_cover: IntArray
) -> None:
    once = card_cover == 1
    share = (frame["TX_FRAUD_SCENARIO"].to_numpy()[once] == 3).mean()
    assert 0.29 < share <= 1 / 3


def _expected_share(frame: pd.DataFrame, per_day: float, window: int) -> float:
    """Mean over transactions of the chance that a draw per day covers them, windows ramping up."""
    draws = np.minimum(frame["TX_TIME_DAYS"].to_numpy() + 1, window)
    return float((1 - (1 - per_day) ** draws).mean())


def test_scenario_shares_match_the_draw_rates(
    frame: pd.DataFrame,
    terminal_cover: IntArray,
    card_cover: IntArray,
) -> None:
    """Each terminal is compromised with chance 2/T a day; each card transaction picked with 3/C x 1/3."""
    on_compromised_terminal = (terminal_cover > 0).mean()
    assert on_compromised_terminal == pytest.approx(
        _expected_share(frame, 2 / PARAMS.terminals, 28), rel=0.3
    )
    scenario_3 = (frame["TX_FRAUD_SCENARIO"] == 3).mean()
    assert scenario_3 == pytest.approx(_expected_share(frame, 1 / PARAMS.customers, 14), rel=0.3)
    assert 0.5 * scenario_3 < (card_cover > 0).mean() / 3 < 2 * scenario_3


def test_fraud_share_is_in_a_plausible_band(frame: pd.DataFrame) -> None:
    expected = _expected_share(frame, 2 / PARAMS.terminals, 28) + _expected_share(
        frame, 1 / PARAMS.customers, 14
    )
    assert frame["TX_FRAUD"].mean() == pytest.approx(expected, rel=0.3)
    shares = frame["TX_FRAUD_SCENARIO"].value_counts(normalize=True)
    assert 0 < shares[1] < 0.005
    assert shares[2] > shares[3] > shares[1]


# Reproducibility and parameters


def test_the_same_params_give_the_same_data(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(simulate(PARAMS), frame)


def test_another_seed_gives_other_data(frame: pd.DataFrame) -> None:
    other = simulate(dataclasses.replace(PARAMS, seed=PARAMS.seed + 1))
    assert len(other) != len(frame) or not other.equals(frame)
    assert not customer_profiles(SimulationParams(seed=1))["x"].equals(
        customer_profiles(SimulationParams(seed=2))["x"]
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customers", 0, "--customers must be at least 1"),
        ("terminals", -3, "--terminals must be at least 1"),
        ("days", 0, "--days must be at least 1"),
        ("radius", 0.0, "--radius must be greater than 0"),
        ("radius", float("nan"), "--radius must be greater than 0"),
        ("seed", -1, "--seed must be at least 0"),
    ],
)
def test_bad_params_are_refused_naming_the_parameter(
    field: str, value: float, message: str
) -> None:
    arguments: dict[str, Any] = {field: value}
    with pytest.raises(InputError, match=message):
        SimulationParams(**arguments)
