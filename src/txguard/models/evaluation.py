"""Detection quality measured the way the handbook measures it, and a policy's outcome in money.

The protocol is SIMULATOR.md's. A card with a fraud on an earlier day is already blocked, so
its transactions leave the test set (catching it again is worth nothing); AUC ROC and
Average Precision pool what remains; CP@k asks how many of the k cards a fraud team could
review each day were compromised, because a team's capacity is counted in cards, not in
transactions.

Where SIMULATOR.md is silent, CP@k follows the handbook's reference code
(``card_precision_top_k`` / ``card_precision_top_k_day``), so our figures compare with the
published ones:

* a card's score on a day is the maximum over its transactions that day, and it counts as
  compromised if any of them is a fraud (an unknown label counts as not fraud);
* a day's precision is divided by ``k`` even when fewer than ``k`` cards are left: the team
  had ``k`` reviews available, and a quiet day must not look better than a busy one;
* compromised cards found in a day's top k are set aside for the later test days (they are
  now blocked); compromised cards ranked below k stay in;
* the average runs over the test days that keep a transaction once known-compromised cards
  are removed (the handbook iterates over the days present in its test set); a day emptied
  only by set-aside cards still counts, with precision 0;
* equal scores are ranked by card id, ascending. The handbook groups by card (which orders
  cards by id) and then sorts with pandas' default quicksort, which is not stable, so its
  ties usually, but not always, fall in that order; we make it the rule so that the same
  scores always give the same figure.

One deliberate difference from the handbook's code: SIMULATOR.md removes the cards that had a
fraud at any time from the first training day up to the day before the test day, while the
handbook's ``get_train_test_set`` only removes those whose fraud is at least the delay
period old. Our rule removes more cards, so CP@k is not inflated by cards the bank has
already blocked. ``evaluate(..., known_after_days=7)`` applies the handbook's rule instead,
so figures can be set beside the published ones.
"""

from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from txguard.domain.enums import Decision
from txguard.domain.errors import InputError

DAY_MS = 86_400_000
"""Test days are calendar days in UTC, and ``time_ms`` is epoch milliseconds in UTC."""

SCORED_COLUMNS = ("transaction_id", "time_ms", "card", "amount", "is_fraud", "score")
"""The columns ``evaluate`` reads from the scored test transactions."""

HISTORY_COLUMNS = ("time_ms", "card", "is_fraud")
"""The columns ``evaluate`` reads from the labelled history that decides known cards."""

POLICY_COLUMNS = ("amount", "is_fraud", "decision")
"""The columns ``policy_outcome`` reads."""

_EPOCH = date(1970, 1, 1)
_DECISIONS = frozenset(d.value for d in Decision)
_ALERTS = frozenset({Decision.REVIEW.value, Decision.BLOCK.value})


@dataclass(frozen=True)
class DayPrecision:
    """One test day of CP@k, so that a poor average can be traced to the days that made it."""

    day: date
    card_precision: float
    cards: int
    """Cards ranked that day: those left after known-compromised and set-aside cards."""
    frauds: int
    """Compromised cards among them: the most the top k could have found."""
    detected: int
    """Compromised cards in the top k, set aside from the following days."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, the day as an ISO date."""
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class Metrics:
    """A detector's test figures, with what was counted and why a figure may be missing."""

    auc_roc: float | None
    average_precision: float | None
    card_precision_at_k: float | None
    k: int
    per_day: list[DayPrecision]
    transactions: int
    """Test transactions left once known-compromised cards are removed."""
    frauds: int
    """Frauds among them (labels known to be 1)."""
    removed_known_compromised: int
    """Test transactions removed because their card already had a fraud."""
    notes: list[str]
    """Why a figure is None, and what was left out of which figure."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: full-precision floats, ISO dates."""
        data = asdict(self)
        data["per_day"] = [day.to_dict() for day in self.per_day]
        return data


def known_compromised(
    history: pd.DataFrame, test_start_ms: int, first_day_ms: int
) -> frozenset[Hashable]:
    """The cards already blocked when the test day starting at ``test_start_ms`` begins.

    They are the cards with a fraud from ``first_day_ms`` (the first training day) up to,
    not including, ``test_start_ms``: the protocol assumes that a fraud seen before is known.
    """
    first = _first_fraud_ms(history, first_day_ms)
    return frozenset(first.index[first.to_numpy() < test_start_ms])


def evaluate(
    scored: pd.DataFrame,
    history: pd.DataFrame,
    *,
    test_start: date,
    test_end: date,
    first_train_day: date,
    top_k: int = 100,
    known_after_days: int = 0,
) -> Metrics:
    """AUC ROC, Average Precision and CP@k over the test days ``test_start..test_end``.

    ``known_after_days`` 0 is SIMULATOR.md's rule (a card with a fraud on any earlier day is
    blocked); the label delay (7) gives the handbook's code's rule, where a card is blocked
    only once its fraud is at least that many days older than the test day's start, i.e.
    once its label has arrived. Reporting both lets our figures be set beside the
    published ones.

    ``scored`` may hold more than the test days; rows outside them are ignored (with a
    note). ``history`` holds the labelled transactions from which known-compromised cards are
    found, the test days included (a fraud on one test day blocks the card for the next).
    """
    _check_period(test_start, test_end, first_train_day, top_k)
    _require_columns(scored, SCORED_COLUMNS, "scored")
    _require_columns(history, HISTORY_COLUMNS, "history")
    start_ms = _epoch_ms(test_start)
    test, notes = _test_rows(scored, start_ms, _epoch_ms(test_end + timedelta(days=1)))
    if known_after_days < 0:
        raise InputError(f"known_after_days: must be 0 or more, got {known_after_days}")
    known = _is_known_compromised(
        test, history, _epoch_ms(first_train_day), start_ms, known_after_days * DAY_MS
    )
    remaining = test.loc[~known]
    auc, ap, ranking_notes = _ranking_metrics(remaining)
    days = (test_end - test_start).days + 1
    cp, per_day, cp_notes = _card_precision(remaining, test_start, days, top_k)
    return Metrics(
        auc_roc=auc,
        average_precision=ap,
        card_precision_at_k=cp,
        k=top_k,
        per_day=per_day,
        transactions=len(remaining),
        frauds=int((remaining["is_fraud"] == 1).sum()),
        removed_known_compromised=int(known.sum()),
        notes=notes + ranking_notes + cp_notes,
    )


def _check_period(test_start: date, test_end: date, first_train_day: date, top_k: int) -> None:
    if test_end < test_start:
        raise InputError(f"test_end: {test_end} is before test_start {test_start}")
    if first_train_day > test_start:
        raise InputError(f"first_train_day: {first_train_day} is after test_start {test_start}")
    if top_k < 1:
        raise InputError(f"top_k: must be at least 1, not {top_k}")


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {', '.join(missing)}")


def _epoch_ms(day: date) -> int:
    return (day - _EPOCH).days * DAY_MS


def _test_rows(scored: pd.DataFrame, start_ms: int, end_ms: int) -> tuple[pd.DataFrame, list[str]]:
    """The test-day rows, each with the index of its test day, checked for what we rank on."""
    time_ms = scored["time_ms"].to_numpy(dtype=np.int64)
    inside = (time_ms >= start_ms) & (time_ms < end_ms)
    rows = scored.loc[inside]
    test = pd.DataFrame(
        {
            "card": rows["card"].to_numpy(dtype=object),
            "is_fraud": _labels(rows["is_fraud"]),
            "score": _floats(rows["score"]),
            "day": (time_ms[inside] - start_ms) // DAY_MS,
        }
    )
    if not np.isfinite(test["score"].to_numpy()).all():
        raise InputError("score: every test transaction needs a finite score")
    outside = int((~inside).sum())
    notes = [f"{outside} scored transactions outside the test days ignored"] if outside else []
    return test, notes


def _floats(values: pd.Series) -> np.ndarray:
    """Plain float64, whatever the dtype (nullable ones included); missing becomes NaN."""
    result: np.ndarray = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return result


def _labels(labels: pd.Series) -> np.ndarray:
    """Labels as 0.0, 1.0 or NaN (unknown), refusing anything else."""
    values = _floats(labels)
    known = values[~np.isnan(values)]
    if not np.isin(known, (0.0, 1.0)).all():
        raise InputError("is_fraud: labels must be 0, 1 or missing (unknown)")
    return values


def _first_fraud_ms(history: pd.DataFrame, first_day_ms: int) -> pd.Series:
    """Each card's first fraud since the first training day: from then on it is blocked."""
    fraud = (
        (_labels(history["is_fraud"]) == 1)
        & (history["time_ms"].to_numpy(dtype=np.int64) >= first_day_ms)
        & history["card"].notna().to_numpy()
    )
    frauds = pd.DataFrame(
        {"card": history["card"].to_numpy()[fraud], "time_ms": history["time_ms"].to_numpy()[fraud]}
    )
    return frauds.groupby("card", sort=False)["time_ms"].min()


def _is_known_compromised(
    test: pd.DataFrame, history: pd.DataFrame, first_day_ms: int, start_ms: int, lag_ms: int
) -> np.ndarray:
    """For each test row, whether its card had a fraud ``lag_ms`` before its test day began."""
    first = _first_fraud_ms(history, first_day_ms)
    first_fraud = test["card"].map(first).to_numpy(dtype=float, na_value=np.inf)
    day_start = start_ms + test["day"].to_numpy(dtype=np.int64) * DAY_MS
    known: np.ndarray = first_fraud < day_start - lag_ms
    return known


def _ranking_metrics(remaining: pd.DataFrame) -> tuple[float | None, float | None, list[str]]:
    """AUC ROC and AP over the labelled remaining rows; None when one class is missing."""
    labelled = remaining.loc[remaining["is_fraud"].notna()]
    notes = []
    unknown = len(remaining) - len(labelled)
    if unknown:
        notes.append(f"{unknown} test transactions with unknown label left out of AUC ROC and AP")
    y = labelled["is_fraud"].to_numpy(dtype=np.int64)
    frauds = int(y.sum())
    if frauds in (0, len(y)):
        notes.append(
            f"AUC ROC and AP undefined: the {len(y)} labelled test transactions hold "
            f"{frauds} frauds, so there is only one class to rank"
        )
        return None, None, notes
    score = labelled["score"].to_numpy(dtype=float)
    return float(roc_auc_score(y, score)), float(average_precision_score(y, score)), notes


def _card_precision(
    remaining: pd.DataFrame, test_start: date, days: int, top_k: int
) -> tuple[float | None, list[DayPrecision], list[str]]:
    """CP@k, day by day, setting aside each day's detected cards for the following days."""
    name = f"CP@{top_k}"
    carded = remaining.loc[remaining["card"].notna()]
    notes = _card_notes(name, len(remaining), len(carded))
    if carded.empty:
        return None, [], notes
    frame = carded.assign(fraud=(carded["is_fraud"] == 1).to_numpy())
    set_aside: set[Hashable] = set()
    per_day = []
    day_of_row = frame["day"].to_numpy(dtype=np.int64)
    for day in np.unique(day_of_row):
        rows = frame.loc[(day_of_row == day) & ~frame["card"].isin(set_aside)]
        cards, frauds, found = _day_precision(rows, top_k)
        set_aside.update(found)
        when = test_start + timedelta(days=int(day))
        per_day.append(DayPrecision(when, len(found) / top_k, cards, frauds, len(found)))
    notes += _missing_day_notes(name, test_start, days, [d.day for d in per_day])
    return float(np.mean([d.card_precision for d in per_day])), per_day, notes


def _card_notes(name: str, remaining: int, carded: int) -> list[str]:
    if remaining == 0:
        return [f"{name} undefined: no test transaction remains"]
    if carded == 0:
        return [f"{name} needs card ids: no remaining test transaction has one"]
    if carded < remaining:
        return [f"{remaining - carded} test transactions without a card id left out of {name}"]
    return []


def _day_precision(rows: pd.DataFrame, top_k: int) -> tuple[int, int, list[Hashable]]:
    """Cards ranked, compromised cards, and the compromised cards in the top k of one day."""
    per_card = rows.groupby("card", sort=True).agg(score=("score", "max"), fraud=("fraud", "max"))
    ranked = per_card.sort_values("score", ascending=False, kind="stable")
    top = ranked.head(top_k)
    found = list(top.index[top["fraud"].to_numpy(dtype=bool)])
    return len(per_card), int(per_card["fraud"].to_numpy(dtype=bool).sum()), found


def _missing_day_notes(name: str, test_start: date, days: int, present: list[date]) -> list[str]:
    missing = sorted({test_start + timedelta(days=i) for i in range(days)} - set(present))
    if not missing:
        return []
    listed = ", ".join(day.isoformat() for day in missing)
    return [f"{name}: no remaining transaction on {listed}; left out of the average"]


@dataclass(frozen=True)
class PolicyOutcome:
    """What a policy's decisions would have caught, missed and cost over a backtest."""

    days: int
    transactions: int
    alerts: int
    alerts_per_day: float
    precision: float | None
    """Frauds among alerts; None without alerts."""
    frauds_caught: int
    frauds_caught_amount: float
    frauds_missed: int
    frauds_missed_amount: float
    legitimate_blocked: int
    legitimate_blocked_amount: float
    review_costs: float
    fraud_prevented: float
    fraud_lost: float
    net: float
    """Fraud prevented minus review costs: what the policy is worth against doing nothing."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, full-precision floats."""
        return asdict(self)


def policy_outcome(
    scored: pd.DataFrame,
    *,
    review_cost: float = 5.0,
    fraud_loss_share: float = 1.0,
    days: int,
) -> PolicyOutcome:
    """The money a policy's ``decision`` column would have saved and cost.

    Assumptions, stated so a reader can disagree with them:

    * every alert (a ``review`` or a ``block``) is reviewed by an analyst, at ``review_cost``;
    * a fraud is caught when its decision is ``review`` or ``block``, and a caught fraud's
      amount is saved in full: the review reaches the cardholder before the money is gone;
    * the bank bears ``fraud_loss_share`` of a fraud's amount (1.0: all of it), so that is
      what a caught fraud saves and a missed one loses;
    * a blocked legitimate payment is reported (count and amount) but not priced: the
      customer's friction has no agreed price, and the sale is usually retried;
    * an unknown label (NaN) counts as not fraud, as it does for CP@k.
    """
    _check_policy_settings(review_cost, fraud_loss_share, days)
    _require_columns(scored, POLICY_COLUMNS, "scored")
    decision = _decisions(scored["decision"])
    amount = _amounts(scored["amount"])
    fraud = _labels(scored["is_fraud"]) == 1
    alert = np.isin(decision, list(_ALERTS))
    block = decision == Decision.BLOCK.value
    caught, missed = fraud & alert, fraud & ~alert
    alerts = int(alert.sum())
    prevented = float(amount[caught].sum()) * fraud_loss_share
    return PolicyOutcome(
        days=days,
        transactions=len(scored),
        alerts=alerts,
        alerts_per_day=alerts / days,
        precision=int(caught.sum()) / alerts if alerts else None,
        frauds_caught=int(caught.sum()),
        frauds_caught_amount=float(amount[caught].sum()),
        frauds_missed=int(missed.sum()),
        frauds_missed_amount=float(amount[missed].sum()),
        legitimate_blocked=int((block & ~fraud).sum()),
        legitimate_blocked_amount=float(amount[block & ~fraud].sum()),
        review_costs=alerts * review_cost,
        fraud_prevented=prevented,
        fraud_lost=float(amount[missed].sum()) * fraud_loss_share,
        net=prevented - alerts * review_cost,
    )


def _check_policy_settings(review_cost: float, fraud_loss_share: float, days: int) -> None:
    if days < 1:
        raise InputError(f"days: the backtest must cover at least 1 day, not {days}")
    if review_cost < 0:
        raise InputError(f"review_cost: must not be negative, not {review_cost}")
    if fraud_loss_share < 0:
        raise InputError(f"fraud_loss_share: must not be negative, not {fraud_loss_share}")


def _decisions(decision: pd.Series) -> np.ndarray:
    values = decision.to_numpy(dtype=object)
    unknown = sorted({str(value) for value in values if value not in _DECISIONS})
    if unknown:
        raise InputError(
            f"decision: unknown value(s) {', '.join(unknown)}; expected approve, review or block"
        )
    return values.astype(str)


def _amounts(amount: pd.Series) -> np.ndarray:
    values = _floats(amount)
    if not np.isfinite(values).all():
        raise InputError("amount: every transaction needs a finite amount")
    return values
