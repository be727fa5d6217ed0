"""Anomaly score latency: one transaction on the hot path, and a million in a batch.

Same run, same forest (100 trees, 256 samples each, 40 features with 10% missing):

* reference: scikit-learn's ``IsolationForest.score_samples`` on one row, the call
  ``AnomalyModel.score_one`` replaces;
* ``AnomalyModel.score_one``, and two ways of walking the same trees that it beat: a plain
  Python loop over the nodes, and numpy moving every tree one level at a time;
* ``AnomalyModel.score`` on 1,000,000 rows, with ``score_samples`` on the same rows.

Every path's scores are checked against scikit-learn's before anything is timed. Usage:
``python bench/anomaly_single_row.py`` (about 20 seconds).
"""

import os
import platform
import shlex
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.ensemble import IsolationForest

from txguard.models.anomaly import AnomalyModel

FEATURES, TRAIN_ROWS, BATCH_ROWS, SEED = 40, 20_000, 1_000_000, 0
REPEAT = 9
FloatArray = npt.NDArray[np.float64]


def data(rows: int, seed: int) -> FloatArray:
    """Skewed features on different scales, 10% missing, like behavioural aggregates."""
    rng = np.random.default_rng(seed)
    scale = np.random.default_rng(SEED).uniform(0.1, 1000, FEATURES)
    values = rng.lognormal(size=(rows, FEATURES)) * scale
    values[rng.random(values.shape) < 0.1] = np.nan
    return values


def per_call_us(call: Callable[[], object], number: int) -> tuple[float, float]:
    """Median and best of ``REPEAT`` runs of ``number`` calls, in microseconds per call."""
    runs = [t / number * 1e6 for t in timeit.repeat(call, number=number, repeat=REPEAT)]
    return statistics.median(runs), min(runs)


def python_walk(forest: Any) -> Callable[[list[float]], float]:
    """Rejected alternative: each tree walked node by node over plain Python lists."""
    trees = [e.tree_ for e in forest.estimators_]
    lists = [
        (
            t.feature.tolist(),
            t.threshold.tolist(),
            t.children_left.tolist(),
            t.children_right.tolist(),
            (t.compute_node_depths() + _c(t.n_node_samples) - 1.0).tolist(),
        )
        for t in trees
    ]
    denominator = len(trees) * float(_c(np.array([forest.max_samples_]))[0])

    def score(row32: list[float]) -> float:
        total = 0.0
        for feature, threshold, left, right, length in lists:
            node = 0
            while left[node] != -1:
                node = left[node] if row32[feature[node]] <= threshold[node] else right[node]
            total += length[node]
        return float(2.0 ** -(total / denominator))

    return score


def numpy_levels(forest: Any) -> Callable[[FloatArray], float]:
    """Rejected alternative: numpy moves all trees down one level per step."""
    trees = [e.tree_ for e in forest.estimators_]
    start = np.cumsum([0] + [t.node_count for t in trees[:-1]])
    leaf = np.concatenate([t.children_left == -1 for t in trees])
    own = np.arange(leaf.size)
    left = np.concatenate([t.children_left + s for t, s in zip(trees, start, strict=True)])
    right = np.concatenate([t.children_right + s for t, s in zip(trees, start, strict=True)])
    children = np.column_stack([np.where(leaf, own, left), np.where(leaf, own, right)]).ravel()
    feature = np.where(leaf, 0, np.concatenate([t.feature for t in trees]))
    threshold = np.where(leaf, np.inf, np.concatenate([t.threshold for t in trees]))
    length = np.concatenate([t.compute_node_depths() + _c(t.n_node_samples) - 1.0 for t in trees])
    depth = max(t.max_depth for t in trees)
    denominator = len(trees) * float(_c(np.array([forest.max_samples_]))[0])

    def score(row32: FloatArray) -> float:
        node = start
        for _ in range(depth):
            node = children[2 * node + (row32[feature[node]] > threshold[node])]
        return float(2.0 ** -(length[node].sum() / denominator))

    return score


def _c(n: npt.NDArray[Any]) -> FloatArray:
    """scikit-learn's average path length ``c(n)`` (for the alternatives above)."""
    n = n.astype(np.float64)
    safe = np.maximum(n, 3.0)
    general = 2.0 * (np.log(safe - 1.0) + np.euler_gamma) - 2.0 * (safe - 1.0) / safe
    result: FloatArray = np.where(n <= 1, 0.0, np.where(n == 2, 1.0, general))
    return result


def check(model: AnomalyModel, forest: Any, rows: FloatArray) -> dict[str, float]:
    """Largest difference from scikit-learn of every path, on the rows that will be timed."""
    filled = np.where(np.isnan(rows), model.fill_values, rows)
    expected = -forest.score_samples(filled)
    as32 = filled.astype(np.float32)
    walk, levels = python_walk(forest), numpy_levels(forest)
    return {
        "score": float(np.abs(model.score(rows) - expected).max()),
        "score_one": max(abs(model.score_one(r) - e) for r, e in zip(rows, expected, strict=True)),
        "python walk": max(abs(walk(r.tolist()) - e) for r, e in zip(as32, expected, strict=True)),
        "numpy levels": max(abs(levels(r) - e) for r, e in zip(as32, expected, strict=True)),
    }


def machine() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, load {os.getloadavg()[0]:.2f}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def single_row(model: AnomalyModel, forest: Any, row: FloatArray) -> dict[str, tuple[float, float]]:
    """Per-call latency of each way to score one row."""
    filled = np.where(np.isnan(row), model.fill_values, row)[np.newaxis]
    as32 = filled[0].astype(np.float32)
    walk, levels, as_list = python_walk(forest), numpy_levels(forest), row.tolist()
    return {
        "sklearn score_samples (reference)": per_call_us(lambda: forest.score_samples(filled), 50),
        "AnomalyModel.score_one": per_call_us(lambda: model.score_one(as_list), 5_000),
        "  rejected: python walk": per_call_us(lambda: walk(as32.tolist()), 1_000),
        "  rejected: numpy levels": per_call_us(lambda: levels(as32), 2_000),
    }


def batch(model: AnomalyModel, forest: Any) -> tuple[float, float]:
    """Seconds to score ``BATCH_ROWS`` rows: ``score``, then sklearn on the same filled rows."""
    rows = data(BATCH_ROWS, SEED + 2)
    started = time.perf_counter()
    model.score(rows)
    ours = time.perf_counter() - started
    filled = np.where(np.isnan(rows), model.fill_values, rows)
    started = time.perf_counter()
    forest.score_samples(filled)
    return ours, time.perf_counter() - started


def main() -> None:
    print(f"# {shlex.join([os.path.relpath(sys.executable), *sys.argv])}")
    print(f"# {machine()}")
    train = data(TRAIN_ROWS, SEED)
    model = AnomalyModel.fit(train, [f"f{i}" for i in range(FEATURES)], seed=SEED)
    forest = IsolationForest(max_samples=256, max_features=1.0, random_state=SEED)
    forest.fit(np.where(np.isnan(train), model.fill_values, train))
    rows = data(2_000, SEED + 1)
    for name, difference in check(model, forest, rows).items():
        print(f"max |{name} - sklearn| over {len(rows):,} rows: {difference:.1e}")
    figures = single_row(model, forest, rows[0])
    for name, (median, best) in figures.items():
        print(f"{name:<36} median {median:8.1f} us/row, best {best:8.1f}")
    reference, ours = (
        figures["sklearn score_samples (reference)"][0],
        figures["AnomalyModel.score_one"][0],
    )
    print(f"{'ratio reference / score_one':<36} {reference / ours:8.0f}x")
    seconds, sklearn_seconds = batch(model, forest)
    print(
        f"{'AnomalyModel.score, 1M x 40':<36} {seconds:.2f} s, {BATCH_ROWS / seconds:,.0f} rows/s, "
        f"{seconds / BATCH_ROWS * 1e6:.2f} us/row"
    )
    print(
        f"{'sklearn score_samples, same rows':<36} {sklearn_seconds:.2f} s; "
        f"ratio score / sklearn {seconds / sklearn_seconds:.1f}"
    )


if __name__ == "__main__":
    main()
