"""Customers, terminals and their transactions, as the handbook's generative process draws them.

Every random draw comes from a generator seeded by the parameters and by *what* is drawn
(the customer table, the terminal table, one customer's transactions), never by the order
of the work, so one customer's transactions stay the same whatever else changes. The
seed layout is ``[seed, stream, ...]``; streams 0 to 2 live here, 3 and 4 in
:mod:`txguard.simulation.fraud`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from txguard.domain.errors import InputError
from txguard.simulation import fraud

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECONDS_PER_DAY = 86_400
TIME_OF_DAY_MEAN = SECONDS_PER_DAY / 2
TIME_OF_DAY_STD = 20_000.0
GRID_SIZE = 100.0

COLUMNS = (
    "TRANSACTION_ID",
    "TX_DATETIME",
    "CUSTOMER_ID",
    "TERMINAL_ID",
    "TX_AMOUNT",
    "TX_TIME_SECONDS",
    "TX_TIME_DAYS",
    "TX_FRAUD",
    "TX_FRAUD_SCENARIO",
)


@dataclass(frozen=True)
class SimulationParams:
    """What a simulated data set depends on; the defaults reproduce the handbook's data."""

    customers: int = 5000
    terminals: int = 10000
    days: int = 183
    start_date: date = date(2018, 4, 1)
    seed: int = 0
    radius: float = 5.0

    def __post_init__(self) -> None:
        for name in ("customers", "terminals", "days"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if not self.radius > 0:
            raise InputError(f"--radius must be greater than 0, got {self.radius}")
        if self.seed < 0:
            raise InputError(f"--seed must be at least 0, got {self.seed}")


@dataclass(frozen=True)
class _Customers:
    """Customer profiles as arrays, indexed by customer id."""

    xy: FloatArray
    mean_amount: FloatArray
    mean_nb_tx_per_day: FloatArray
    available_terminals: Sequence[IntArray]


def _draw_customers(params: SimulationParams, terminal_xy: FloatArray) -> _Customers:
    rng = np.random.default_rng([params.seed, 0])
    n = params.customers
    xy = np.column_stack([rng.uniform(0, GRID_SIZE, n), rng.uniform(0, GRID_SIZE, n)])
    mean_amount = rng.uniform(5, 100, n)
    rate = rng.uniform(0, 4, n)
    available = _terminals_within(xy, terminal_xy, params.radius)
    return _Customers(xy, mean_amount, rate, available)


def _draw_terminal_xy(params: SimulationParams) -> FloatArray:
    rng = np.random.default_rng([params.seed, 1])
    n = params.terminals
    return np.column_stack([rng.uniform(0, GRID_SIZE, n), rng.uniform(0, GRID_SIZE, n)])


def _terminals_within(points: FloatArray, terminal_xy: FloatArray, radius: float) -> list[IntArray]:
    """Sorted ids of the terminals within ``radius`` of each point (a k-d tree, not all pairs)."""
    neighbours = cKDTree(terminal_xy).query_ball_point(points, r=radius, return_sorted=True)
    return [np.asarray(ids, dtype=np.int64) for ids in neighbours]


def customer_profiles(params: SimulationParams) -> pd.DataFrame:
    """The customer table, one row per customer, with the terminals each one may use."""
    customers = _draw_customers(params, _draw_terminal_xy(params))
    return pd.DataFrame(
        {
            "CUSTOMER_ID": np.arange(params.customers, dtype=np.int64),
            "x": customers.xy[:, 0],
            "y": customers.xy[:, 1],
            "mean_amount": customers.mean_amount,
            "std_amount": customers.mean_amount / 2,
            "mean_nb_tx_per_day": customers.mean_nb_tx_per_day,
            "available_terminals": pd.Series(list(customers.available_terminals), dtype=object),
        }
    )


def terminal_profiles(params: SimulationParams) -> pd.DataFrame:
    """The terminal table, one row per terminal."""
    xy = _draw_terminal_xy(params)
    return pd.DataFrame(
        {
            "TERMINAL_ID": np.arange(params.terminals, dtype=np.int64),
            "x": xy[:, 0],
            "y": xy[:, 1],
        }
    )


@dataclass(frozen=True)
class _Draws:
    """One customer's transactions in generation order (day, then draw)."""

    seconds: IntArray
    terminal: IntArray
    amount: FloatArray


def _customer_draws(params: SimulationParams, customers: _Customers, customer_id: int) -> _Draws:
    """The transactions of one customer over all days, from that customer's own generator."""
    rng = np.random.default_rng([params.seed, 2, customer_id])
    counts = rng.poisson(customers.mean_nb_tx_per_day[customer_id], params.days)
    day = np.repeat(np.arange(params.days, dtype=np.int64), counts)
    time_of_day = rng.normal(TIME_OF_DAY_MEAN, TIME_OF_DAY_STD, day.size).astype(np.int64)
    kept = (time_of_day >= 0) & (time_of_day < SECONDS_PER_DAY)
    seconds = day[kept] * SECONDS_PER_DAY + time_of_day[kept]
    amount = _draw_amounts(rng, customers.mean_amount[customer_id], seconds.size)
    terminals = customers.available_terminals[customer_id]
    terminal = terminals[rng.integers(0, terminals.size, seconds.size)]
    return _Draws(seconds, terminal, amount)


def _draw_amounts(rng: np.random.Generator, mean: float, size: int) -> FloatArray:
    """Normal(mean, mean / 2) in cents; a negative draw is redrawn uniformly on [0, 2 mean]."""
    amount = rng.normal(mean, mean / 2, size)
    negative = amount < 0
    amount[negative] = rng.uniform(0, 2 * mean, int(negative.sum()))
    return np.round(amount, 2)


def _all_draws(params: SimulationParams, customers: _Customers) -> tuple[IntArray, _Draws]:
    """Every customer's draws, concatenated by customer, with the customer id of each row."""
    active = [c for c in range(params.customers) if customers.available_terminals[c].size]
    draws = [_customer_draws(params, customers, c) for c in active]
    sizes = [d.seconds.size for d in draws]
    customer = np.repeat(np.asarray(active, dtype=np.int64), sizes)
    joined = _Draws(
        seconds=np.concatenate([d.seconds for d in draws] or [np.empty(0, np.int64)]),
        terminal=np.concatenate([d.terminal for d in draws] or [np.empty(0, np.int64)]),
        amount=np.concatenate([d.amount for d in draws] or [np.empty(0, np.float64)]),
    )
    return customer, joined


def generate_transactions(params: SimulationParams) -> pd.DataFrame:
    """The transactions before any fraud is added, sorted by time and numbered.

    The rows are concatenated by customer in generation order, so a stable sort on the
    time alone orders ties by customer and then by draw, with no dependence on the sort
    algorithm. :func:`simulate` adds fraud to exactly this frame, row for row.
    """
    customers = _draw_customers(params, _draw_terminal_xy(params))
    customer, draws = _all_draws(params, customers)
    order = np.argsort(draws.seconds, kind="stable")
    seconds = draws.seconds[order]
    start = np.datetime64(params.start_date, "ns")
    columns = {
        "TRANSACTION_ID": np.arange(seconds.size, dtype=np.int64),
        "TX_DATETIME": start + seconds.astype("timedelta64[s]"),
        "CUSTOMER_ID": customer[order],
        "TERMINAL_ID": draws.terminal[order],
        "TX_AMOUNT": draws.amount[order],
        "TX_TIME_SECONDS": seconds,
        "TX_TIME_DAYS": seconds // SECONDS_PER_DAY,
        "TX_FRAUD": np.zeros(seconds.size, dtype=np.int64),
        "TX_FRAUD_SCENARIO": np.zeros(seconds.size, dtype=np.int64),
    }
    return pd.DataFrame(columns, columns=list(COLUMNS))


def simulate(params: SimulationParams) -> pd.DataFrame:
    """The handbook's data set: transactions in the simulator layout, with the three fraud scenarios."""
    return fraud.add_frauds(
        generate_transactions(params),
        customers=params.customers,
        terminals=params.terminals,
        days=params.days,
        seed=params.seed,
    )
