"""The supervised fraud model: gradient-boosted trees whose output is a calibrated probability.

LightGBM is trained on the batch features of a labelled window and called as a raw
``Booster`` on the hot path (a 1-row ``predict`` costs ~20 µs where the scikit-learn wrapper
costs ~0.6 ms). Its margin is mapped to a probability by Platt scaling fitted on a later,
held-out period, so ``fraud_probability`` means what it says; the mapping is monotone, so
calibration never changes the ranking.
"""

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
from sklearn.linear_model import LogisticRegression

from txguard.models.single_row import SingleRowPredictor

FloatArray = np.ndarray
DEFAULT_BINS = 255
"""LightGBM's own number of histogram bins per feature."""


@dataclass(frozen=True)
class TreeParams:
    """Model size and learning settings; small enough that exact TreeSHAP stays under 1 ms.

    200 trees of 15 leaves cost about 0.4 ms of TreeSHAP per row. The L2 penalty on leaf
    values keeps the few hundred frauds of a training week from being fitted one by one.
    ``fine_features`` get far more histogram bins than the others: amounts matter to the
    cent at a fraud boundary (a card limit, a rule's threshold), and with 255 quantile bins
    the rare large amounts share bins tens of units wide.
    """

    num_trees: int = 200
    num_leaves: int = 15
    learning_rate: float = 0.05
    min_child_samples: int = 40
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    l2_penalty: float = 10.0
    fine_features: tuple[str, ...] = ("amount", "log_amount")
    fine_bins: int = 4095
    seed: int = 0

    def lightgbm(self, feature_names: Sequence[str] = ()) -> dict[str, object]:
        """The LightGBM parameters, pinned for a deterministic result on any machine.

        With ``feature_names`` (the training columns, in order), ``fine_features`` among them
        get ``fine_bins`` bins.
        """
        params: dict[str, object] = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.l2_penalty,
            "min_data_in_bin": 1,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": 1,
            "verbosity": -1,
        }
        if any(name in self.fine_features for name in feature_names):
            params["max_bin_by_feature"] = [
                self.fine_bins if name in self.fine_features else DEFAULT_BINS
                for name in feature_names
            ]
        return params


@dataclass(frozen=True)
class Calibration:
    """Platt scaling: ``p = 1 / (1 + exp(-(slope * margin + intercept)))``."""

    slope: float = 1.0
    intercept: float = 0.0

    def probability(self, margin: FloatArray) -> FloatArray:
        """Calibrated probabilities of raw margins."""
        z = np.clip(self.slope * margin + self.intercept, -500.0, 500.0)
        result: FloatArray = 1.0 / (1.0 + np.exp(-z))
        return result

    def probability_one(self, margin: float) -> float:
        """The same for one margin, without numpy's per-call overhead."""
        z = max(-500.0, min(500.0, self.slope * margin + self.intercept))
        return 1.0 / (1.0 + math.exp(-z))


def fit_calibration(margin: FloatArray, labels: FloatArray) -> Calibration:
    """Platt scaling fitted on held-out margins; identity when one class is missing."""
    if len(np.unique(labels)) < 2:
        return Calibration()
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), labels)
    return Calibration(float(fitted.coef_[0, 0]), float(fitted.intercept_[0]))


@dataclass
class FraudModel:
    """A trained booster, the features it reads (in order), and its calibration."""

    booster: lgb.Booster
    feature_names: tuple[str, ...]
    calibration: Calibration = field(default_factory=Calibration)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    def margin(self, features: FloatArray) -> FloatArray:
        """Raw scores (log-odds before calibration) of a 2-D array of feature rows."""
        result: FloatArray = np.asarray(
            self.booster.predict(features, raw_score=True, num_threads=1), dtype=np.float64
        )
        return result

    def probability(self, features: FloatArray) -> FloatArray:
        """Calibrated fraud probabilities of a 2-D array of feature rows."""
        return self.calibration.probability(self.margin(features))

    def probability_one(self, row: Sequence[float] | np.ndarray) -> float:
        """The calibrated probability of one row: the authorisation-time call."""
        predictor = getattr(self._local, "predictor", None)
        if predictor is None:
            predictor = self._local.predictor = SingleRowPredictor(self.booster, len(row))
        return self.calibration.probability_one(predictor.margin(row))

    def contributions(self, features: FloatArray) -> FloatArray:
        """Exact TreeSHAP contributions to the margin: one column per feature, then the bias."""
        result: FloatArray = np.asarray(
            self.booster.predict(features, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        return result

    def to_text(self) -> str:
        """The booster in LightGBM's own text format (no pickle)."""
        text: str = self.booster.model_to_string()
        return text

    @classmethod
    def from_text(
        cls, text: str, feature_names: tuple[str, ...], calibration: Calibration
    ) -> "FraudModel":
        """A model read back from ``to_text``; the feature list must match the booster's."""
        booster = lgb.Booster(model_str=text)
        if tuple(booster.feature_name()) != feature_names:
            raise ValueError("the booster's features differ from the artifact's feature list")
        return cls(booster, feature_names, calibration)


def train_booster(
    features: FloatArray, labels: FloatArray, names: tuple[str, ...], params: TreeParams
) -> lgb.Booster:
    """Gradient-boosted trees on one labelled window; deterministic for fixed parameters."""
    if len(np.unique(labels)) < 2:
        raise ValueError("training needs both frauds and genuine transactions in the window")
    data = lgb.Dataset(features, label=labels, feature_name=list(names), params={"verbosity": -1})
    return lgb.train(params.lightgbm(names), data, num_boost_round=params.num_trees)
