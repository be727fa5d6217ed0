"""The handbook's three fraud scenarios, added to generated transactions in the handbook's order.

Scenario 1 marks large amounts; scenario 2 runs over every day, then scenario 3 over every
day, each later marking overwriting the scenario number of an earlier one. A transaction
picked by two overlapping card compromises has its amount multiplied by 5 twice, as in the
handbook. Each day's draws come from a generator seeded by ``[seed, 3, day]`` (terminals)
or ``[seed, 4, day]`` (cards), so any day's compromise can be recomputed on its own.
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]

LARGE_AMOUNT = 220.0
TERMINALS_PER_DAY = 2
TERMINAL_WINDOW_DAYS = 28
CUSTOMERS_PER_DAY = 3
CARD_WINDOW_DAYS = 14
CARD_AMOUNT_FACTOR = 5


@dataclass(frozen=True)
class _Groups:
    """Row numbers grouped by key (terminal or customer), each group in row order."""

    rows: IntArray
    offsets: IntArray
    days: IntArray

    def in_window(self, key: int, first_day: int, length: int) -> IntArray:
        """Rows of ``key`` whose day lies in ``[first_day, first_day + length)``."""
        group = self.rows[self.offsets[key] : self.offsets[key + 1]]
        group_days = self.days[group]
        lo, hi = np.searchsorted(group_days, [first_day, first_day + length])
        return group[lo:hi]


def _group_rows(keys: IntArray, n_keys: int, days: IntArray) -> _Groups:
    """Index each key's rows once, so each day touches only the rows it compromises.

    The rows are sorted by time, so a stable sort keeps each group in time order and each
    group's days sorted, which lets a window be found by binary search.
    """
    rows = np.argsort(keys, kind="stable").astype(np.int64)
    counts = np.bincount(keys, minlength=n_keys)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return _Groups(rows, offsets, days)


def compromised_terminals(seed: int, day: int, terminals: int) -> IntArray:
    """The terminals compromised on ``day`` (scenario 2), drawn among all terminals."""
    rng = np.random.default_rng([seed, 3, day])
    size = min(TERMINALS_PER_DAY, terminals)
    return rng.choice(terminals, size=size, replace=False).astype(np.int64)


def _card_draw(seed: int, day: int, customers: int) -> tuple[np.random.Generator, IntArray]:
    rng = np.random.default_rng([seed, 4, day])
    size = min(CUSTOMERS_PER_DAY, customers)
    return rng, rng.choice(customers, size=size, replace=False).astype(np.int64)


def compromised_customers(seed: int, day: int, customers: int) -> IntArray:
    """The customers whose cards are compromised on ``day`` (scenario 3)."""
    return _card_draw(seed, day, customers)[1]


def _mark_terminals(
    scenario: IntArray, groups: _Groups, *, seed: int, days: int, terminals: int
) -> None:
    for day in range(days):
        for terminal in compromised_terminals(seed, day, terminals):
            scenario[groups.in_window(int(terminal), day, TERMINAL_WINDOW_DAYS)] = 2


def _mark_cards(
    scenario: IntArray,
    amount: npt.NDArray[np.float64],
    groups: _Groups,
    *,
    seed: int,
    days: int,
    customers: int,
) -> None:
    """Pick a third of the compromised cards' window transactions, in row order, and inflate them."""
    for day in range(days):
        rng, drawn = _card_draw(seed, day, customers)
        windows = [groups.in_window(int(c), day, CARD_WINDOW_DAYS) for c in drawn]
        candidates = np.sort(np.concatenate(windows))
        picked = candidates[rng.choice(candidates.size, size=candidates.size // 3, replace=False)]
        amount[picked] = np.round(amount[picked] * CARD_AMOUNT_FACTOR, 2)
        scenario[picked] = 3


def add_frauds(
    frame: pd.DataFrame, *, customers: int, terminals: int, days: int, seed: int
) -> pd.DataFrame:
    """A copy of ``frame`` (sorted by time) with fraud labels, scenarios and inflated amounts."""
    tx_days = frame["TX_TIME_DAYS"].to_numpy(dtype=np.int64)
    amount = frame["TX_AMOUNT"].to_numpy(dtype=np.float64, copy=True)
    scenario = np.where(amount > LARGE_AMOUNT, 1, 0).astype(np.int64)
    terminal_rows = _group_rows(frame["TERMINAL_ID"].to_numpy(dtype=np.int64), terminals, tx_days)
    _mark_terminals(scenario, terminal_rows, seed=seed, days=days, terminals=terminals)
    customer_rows = _group_rows(frame["CUSTOMER_ID"].to_numpy(dtype=np.int64), customers, tx_days)
    _mark_cards(scenario, amount, customer_rows, seed=seed, days=days, customers=customers)
    return frame.assign(
        TX_AMOUNT=amount,
        TX_FRAUD=(scenario > 0).astype(np.int64),
        TX_FRAUD_SCENARIO=scenario,
    )
