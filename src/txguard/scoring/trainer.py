"""Train a model version on a file's training window, with features computed in batch.

Features are computed with the same definitions as the online path, from the file's
history up to the end of the training window only, so nothing after the window can reach
the model even by accident. Columns that the file cannot fill (no card ids, say) are left
out of the model rather than fed as constant NaN.
"""

import hashlib
from datetime import date, timedelta

import numpy as np

from txguard.domain.errors import InputError
from txguard.features.batch import compute_batch
from txguard.features.definitions import FEATURE_NAMES, FeatureConfig
from txguard.models.artifact import ModelBundle
from txguard.models.training import TrainingOptions, TrainingSet, train_bundle
from txguard.scoring.history import History, day_bounds_ms


def training_set(history: History, start: date, end: date, config: FeatureConfig) -> TrainingSet:
    """The window's feature rows, labels and times, from history up to the window's end."""
    rows = history.require_rows(start, end, "the training window")
    _, after = day_bounds_ms(start, end)
    upto = history.frame[history.frame["time_ms"] < after]
    features = compute_batch(upto, config)
    for name in history.extras:
        features[name] = upto[name]
    window = features[rows[: len(upto)]]
    names = [n for n in FEATURE_NAMES if window[n].notna().any()] + list(history.extras)
    labels = upto.loc[window.index, "is_fraud"].to_numpy(dtype=np.float64, na_value=np.nan)
    return TrainingSet(
        features=window[names].to_numpy(dtype=np.float64),
        labels=labels,
        time_ms=upto.loc[window.index, "time_ms"].to_numpy(dtype=np.int64),
        feature_names=tuple(names),
    )


def train(
    history: History,
    start: date,
    end: date,
    *,
    label_delay_days: float,
    options: TrainingOptions,
) -> ModelBundle:
    """A model version trained on ``start``..``end``; its version names the data and window."""
    config = FeatureConfig(label_delay=timedelta(days=label_delay_days))
    data = training_set(history, start, end, config)
    version = _version(data, start, end, options)
    try:
        bundle = train_bundle(data, options, version)
    except ValueError as exc:
        raise InputError(f"cannot train on {start}..{end}: {exc}") from exc
    bundle.label_delay_days = label_delay_days
    bundle.train_start, bundle.train_end = start.isoformat(), end.isoformat()
    return bundle


def _version(data: TrainingSet, start: date, end: date, options: TrainingOptions) -> str:
    """A readable, deterministic version: the window plus a digest of data and settings."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.features).tobytes())
    digest.update(np.nan_to_num(data.labels, nan=-1.0).tobytes())
    digest.update(repr((data.feature_names, options)).encode())
    return f"m-{start:%Y%m%d}-{end:%Y%m%d}-{digest.hexdigest()[:8]}"
