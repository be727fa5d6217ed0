"""Train a model version from batch features of a labelled window.

The window is split in time, never at random: the model is first fitted on its earlier days
and judged on the last ones (validation), which is where the calibration and the review
budget's thresholds come from, as they would be met in production. The version that ships
is then refitted on the whole window with the same settings, keeping that calibration.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from txguard.models.anomaly import AnomalyModel
from txguard.models.artifact import ModelBundle
from txguard.models.fraud import FraudModel, TreeParams, fit_calibration, train_booster
from txguard.models.thresholds import NEVER, Thresholds, choose_thresholds

DAY_MS = 86_400_000


@dataclass(frozen=True)
class TrainingSet:
    """Feature rows of the training window, their labels (NaN = unknown) and times."""

    features: np.ndarray
    labels: np.ndarray
    time_ms: np.ndarray
    feature_names: tuple[str, ...]

    @property
    def labelled(self) -> np.ndarray:
        """Which rows have a known label."""
        result: np.ndarray = ~np.isnan(self.labels)
        return result


@dataclass(frozen=True)
class TrainingOptions:
    """How to train; every source of randomness is seeded."""

    alerts_per_day: float = 100.0
    block_precision: float = 0.9
    validation_days: int = 2
    params: TreeParams = TreeParams()
    anomaly_trees: int = 100
    seed: int = 0


def train_bundle(data: TrainingSet, options: TrainingOptions, version: str) -> ModelBundle:
    """A complete model version: fraud model (if labels allow), anomaly model, thresholds."""
    if len(data.features) == 0:
        raise ValueError("the training window holds no transactions")
    anomaly = AnomalyModel.fit(
        data.features, data.feature_names, seed=options.seed, n_estimators=options.anomaly_trees
    )
    labels = data.labels[data.labelled]
    if len(np.unique(labels)) < 2:
        return _anomaly_only(data, options, version, anomaly)
    fit, held = _split(data, options.validation_days)
    first = train_booster(data.features[fit], data.labels[fit], data.feature_names, options.params)
    margin = FraudModel(first, data.feature_names).margin(data.features[held])
    calibration = fit_calibration(margin, data.labels[held])
    probability = calibration.probability(margin)
    thresholds = choose_thresholds(
        probability,
        data.labels[held],
        days=options.validation_days,
        alerts_per_day=options.alerts_per_day,
        block_precision=options.block_precision,
    )
    rows = data.labelled
    final = train_booster(
        data.features[rows], data.labels[rows], data.feature_names, options.params
    )
    metrics = _validation_metrics(data, held, probability)
    metrics["anomaly_review_threshold"] = _anomaly_budget(data, options, anomaly).review
    return ModelBundle(
        version=version,
        feature_names=data.feature_names,
        thresholds=thresholds,
        fraud=FraudModel(final, data.feature_names, calibration),
        anomaly=anomaly,
        metrics=metrics,
    )


def _anomaly_budget(
    data: TrainingSet, options: TrainingOptions, anomaly: AnomalyModel
) -> Thresholds:
    """The anomaly score above which the training window raised the daily alert budget."""
    days = max((int(data.time_ms.max()) - int(data.time_ms.min())) / DAY_MS, 1.0)
    scores = anomaly.score(data.features)
    budget = choose_thresholds(
        scores, np.zeros(len(scores)), days=days, alerts_per_day=options.alerts_per_day
    )
    return Thresholds(budget.review, NEVER, options.alerts_per_day, options.block_precision)


def _split(data: TrainingSet, validation_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows to fit on and rows to validate on: the last ``validation_days`` are held out."""
    cut = int(data.time_ms.max()) - validation_days * DAY_MS
    labelled = data.labelled
    fit = labelled & (data.time_ms <= cut)
    held = labelled & (data.time_ms > cut)
    for rows, name in ((fit, "fitting"), (held, "validation")):
        if len(np.unique(data.labels[rows])) < 2:
            raise ValueError(
                f"the {name} part of the training window needs both frauds and genuine "
                "transactions; use a longer training window"
            )
    return fit, held


def _validation_metrics(
    data: TrainingSet, held: np.ndarray, probability: np.ndarray
) -> dict[str, float]:
    y = data.labels[held]
    return {
        "training_transactions": float(data.labelled.sum()),
        "training_frauds": float(np.nansum(data.labels)),
        "validation_transactions": float(held.sum()),
        "validation_auc_roc": float(roc_auc_score(y, probability)),
        "validation_average_precision": float(average_precision_score(y, probability)),
    }


def _anomaly_only(
    data: TrainingSet, options: TrainingOptions, version: str, anomaly: AnomalyModel
) -> ModelBundle:
    """For a bank without labels: the anomaly score decides, at the same review budget."""
    thresholds = _anomaly_budget(data, options, anomaly)
    return ModelBundle(
        version=version,
        feature_names=data.feature_names,
        thresholds=thresholds,
        anomaly=anomaly,
        metrics={
            "training_transactions": len(data.features),
            "training_frauds": 0,
            "anomaly_review_threshold": thresholds.review,
        },
    )
