"""The unsupervised anomaly model: an isolation forest fitted by scikit-learn, scored without it.

``IsolationForest.score_samples`` on one row costs about 4 ms (input validation, a joblib
dispatch and one Cython call per tree), forty times the hot path's budget. So ``fit`` copies
the fitted trees out as flat arrays, and both scoring paths walk those arrays with numpy:
``score_one`` visits every tree at once in about 20 µs, ``score`` goes level by level over
chunks of rows. The saved model is an ``.npz`` of the same arrays: no pickle to trust, and
loading it needs no scikit-learn.

The score is scikit-learn's own, not an approximation (the tests hold it to 1e-12):

* The forest is fitted on data whose missing features (NaN) are filled with the training
  medians, so serving data is filled the same way before it reaches a tree.
* scikit-learn casts ``X`` to float32 and goes left when ``float32(x) <= threshold`` in
  float64. For a float32 ``x`` that holds exactly when ``x <= t32``, ``t32`` being the
  largest float32 not above the threshold, so both paths compare float32 with ``t32``.
* A leaf contributes ``depth + c(n) - 1`` with the root at depth 1 and ``c`` the average
  path length of an unsuccessful search among the ``n`` training rows left in the leaf,
  computed as scikit-learn computes them; the score is ``2 ** -(mean / c(max_samples))``.
"""

import io
import threading
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from txguard.domain.errors import InputError
from txguard.models.single_row import SingleRowPredictor

if TYPE_CHECKING:
    import lightgbm as lgb

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

FORMAT = "txguard.anomaly/1"
# scikit-learn's marker for "no child" in children_left and children_right.
LEAF = -1
# Rows x trees walked per step of score(): large enough to amortise numpy's per-call cost,
# small enough for the working arrays to stay in the CPU cache (measured best near 25,000).
CHUNK_CELLS = 32_768
FLOAT32_MAX = float(np.finfo(np.float32).max)
# Every array of the saved model: its type ("str" for text) and number of dimensions.
ARRAYS = {
    "format": ("str", 0),
    "feature_names": ("str", 1),
    "fill_values": ("float64", 1),
    "feature": ("int64", 1),
    "threshold": ("float64", 1),
    "children_left": ("int64", 1),
    "children_right": ("int64", 1),
    "path_length": ("float64", 1),
    "roots": ("int64", 1),
    "max_samples": ("int64", 0),
}
# What np.load and zipfile raise on bytes that are not a readable archive of plain arrays
# (NotImplementedError: zip features such as encryption that zipfile does not support).
UNREADABLE = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


class AnomalyModelError(InputError, ValueError):
    """Bytes or inputs that do not make an anomaly model; the message names the part at fault.

    A ``ValueError`` too, so callers that only know numpy-style errors still catch it.
    """


@dataclass(frozen=True)
class _Forest:
    """The fitted trees as scikit-learn numbers their nodes, laid end to end.

    Children are global node indices (``LEAF`` at a leaf); ``path_length`` is what a row
    ending at that node adds to the forest's total path length.
    """

    feature: IntArray
    threshold: FloatArray
    children_left: IntArray
    children_right: IntArray
    path_length: FloatArray
    roots: IntArray
    max_samples: int


@dataclass(frozen=True)
class _Walk:
    """The forest renumbered for scoring, computed once when a model is built or loaded.

    Internal nodes come first, grouped by the column they test, so ``score_one`` can compare
    a row with every threshold using one ``np.repeat``; leaves follow and point to
    themselves, so ``steps`` moves from the roots land every row on its leaf, however deep.
    """

    per_column: IntArray
    cut: Float32Array
    left: IntArray
    right: IntArray
    leaves: IntArray
    column: IntArray
    cut_all: Float32Array
    children: IntArray
    path_length: FloatArray
    roots: IntArray
    steps: int
    denominator: float


class AnomalyModel:
    """How unusual a transaction is, in (0, 1]: 1 is isolated at once, about 0.5 is ordinary.

    Build one with :meth:`fit` or :meth:`from_bytes`; scores are the paper's
    ``2 ** (-E[h(x)] / c(n))``, i.e. ``-IsolationForest.score_samples``.

    >>> rng = np.random.default_rng(0)
    >>> model = AnomalyModel.fit(rng.normal(size=(500, 2)), ["amount_z", "gap_z"], n_estimators=20)
    >>> model.score_one([0.0, float("nan")]) < model.score_one([6.0, -6.0])
    True
    """

    feature_names: tuple[str, ...]

    def __init__(
        self, feature_names: Sequence[str], fill_values: FloatArray, forest: _Forest
    ) -> None:
        _check_features(feature_names, fill_values)
        _check_forest(forest, len(feature_names))
        self.feature_names = tuple(feature_names)
        self._fill = _read_only(fill_values)
        self._forest = forest
        self._walk = _build_walk(forest, len(feature_names))
        self._booster = _as_booster(forest, len(feature_names))
        self._local = threading.local()

    @classmethod
    def fit(
        cls,
        X: npt.ArrayLike,
        feature_names: Sequence[str],
        *,
        seed: int = 0,
        n_estimators: int = 100,
        max_samples: int = 256,
    ) -> "AnomalyModel":
        """Fit scikit-learn's forest on median-filled rows; ``max_samples`` caps at the row count.

        The cap avoids scikit-learn's warning and does what it would do anyway. Every
        feature is tried at every split (``max_features=1.0``), which is also what lets
        the trees index the original columns.
        """
        from sklearn.ensemble import IsolationForest

        rows = _training_rows(X, feature_names)
        if n_estimators < 1 or max_samples < 1:
            raise AnomalyModelError("n_estimators and max_samples must be at least 1")
        fill = _medians(rows)
        forest = IsolationForest(
            n_estimators=n_estimators,
            max_samples=min(max_samples, rows.shape[0]),
            max_features=1.0,
            random_state=seed,
        ).fit(_impute(rows, fill))
        return cls(feature_names, fill, _extract(forest))

    @property
    def fill_values(self) -> FloatArray:
        """The value each missing feature takes: its training median, 0 if never observed."""
        return self._fill

    def score(self, X: npt.ArrayLike) -> FloatArray:
        """Scores of many rows, one chunk at a time so memory stays flat for millions of rows."""
        rows = self._rows(X)
        chunk = max(1, CHUNK_CELLS // self._walk.roots.size)
        total = np.empty(rows.shape[0])
        for start in range(0, rows.shape[0], chunk):
            block = self._filled_float32(rows[start : start + chunk])
            total[start : start + chunk] = _total_path_length(self._walk, block)
        return _to_score(total, self._walk.denominator)

    def score_one(self, row: Sequence[float] | npt.NDArray[np.floating[Any]]) -> float:
        """The score of one row, through LightGBM's single-row C path.

        The forest is handed to LightGBM as a model of its own (``_as_booster``): thresholds
        rounded down to float32 and rows cast through float32 keep every branch scikit-
        learn's, and each leaf's value is its path length, so the booster's raw score is the
        row's total path length. A forest with a one-leaf tree (tiny samples) takes the numpy
        path instead: every threshold compared at once, then every tree walked at once.
        Comparing all ~6,000 thresholds with one ``np.repeat`` costs less than the ~50 small
        numpy calls of a level-by-level walk or a Python loop over ~800 nodes (measured in
        ``bench/anomaly_single_row.py``).
        """
        if self._booster is not None:
            predictor = getattr(self._local, "predictor", None)
            if predictor is None:
                predictor = SingleRowPredictor(self._booster, len(self.feature_names))
                self._local.predictor = predictor
            total = predictor.margin(self._one_row(row).astype(np.float64))
            return float(2.0 ** -_ratio(total, self._walk.denominator))
        walk = self._walk
        goes_right = np.repeat(self._one_row(row), walk.per_column) > walk.cut
        step = np.concatenate((np.where(goes_right, walk.right, walk.left), walk.leaves))
        node = walk.roots
        for _ in range(walk.steps):
            node = step[node]
        return float(2.0 ** -_ratio(float(walk.path_length[node].sum()), walk.denominator))

    def to_bytes(self) -> bytes:
        """The model as an ``.npz`` archive of plain arrays, the same bytes for the same model."""
        forest = self._forest
        buffer = io.BytesIO()
        np.savez(
            buffer,
            allow_pickle=False,
            format=np.array(FORMAT),
            feature_names=np.array(self.feature_names, dtype=np.str_),
            fill_values=self._fill,
            feature=forest.feature,
            threshold=forest.threshold,
            children_left=forest.children_left,
            children_right=forest.children_right,
            path_length=forest.path_length,
            roots=forest.roots,
            max_samples=np.array(forest.max_samples, dtype=np.int64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "AnomalyModel":
        """Rebuild a model from :meth:`to_bytes`, refusing anything that would score wrongly.

        Every array is checked (names, types, tree structure) because a model that loads
        but walks off its arrays would fail on the hot path instead of here.
        """
        arrays = _read_npz(data)
        if str(arrays["format"]) != FORMAT:
            raise AnomalyModelError(f"anomaly model format is {arrays['format']!s}, not {FORMAT}")
        forest = _Forest(
            feature=arrays["feature"],
            threshold=arrays["threshold"],
            children_left=arrays["children_left"],
            children_right=arrays["children_right"],
            path_length=arrays["path_length"],
            roots=arrays["roots"],
            max_samples=int(arrays["max_samples"]),
        )
        names = [str(name) for name in arrays["feature_names"]]
        return cls(names, arrays["fill_values"], forest)

    def _rows(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """``X`` as a 2-D array with one column per feature, not yet copied."""
        rows = np.asarray(X)
        if rows.ndim != 2 or rows.shape[1] != len(self.feature_names):
            raise AnomalyModelError(
                f"X has shape {rows.shape}; the model expects {len(self.feature_names)} columns"
            )
        return rows

    def _one_row(self, row: Sequence[float] | npt.NDArray[np.floating[Any]]) -> Float32Array:
        """One row filled and cast as in :meth:`_filled_float32`, with fewer numpy calls."""
        x = np.asarray(row, dtype=np.float64)
        if x.shape != self._fill.shape:
            raise AnomalyModelError(
                f"row has shape {x.shape}; the model expects {len(self.feature_names)} values"
            )
        with np.errstate(over="ignore"):
            filled: Float32Array = np.where(np.isnan(x), self._fill, x).astype(np.float32)
        return filled

    def _filled_float32(self, rows: npt.NDArray[Any]) -> Float32Array:
        """Rows as scikit-learn's trees see them: filled in float64, then cast to float32.

        Float64 first, as scikit-learn receives them, so that integers round alike; values
        beyond float32 become infinite there too, quietly here.
        """
        values = np.asarray(rows, dtype=np.float64)
        with np.errstate(over="ignore"):
            return np.where(np.isnan(values), self._fill, values).astype(np.float32)


def _total_path_length(walk: _Walk, block: Float32Array) -> FloatArray:
    """Each row's path length summed over the trees, walking all trees one level at a time.

    ``node`` is trees x rows; the row's value for a node's column sits at
    ``column * rows + row`` of the transposed block. ``mode="clip"`` skips numpy's bounds
    check: every index is valid by construction (``_check_forest``).
    """
    size = block.shape[0]
    values = block.T.ravel()
    offset = walk.column * size
    row = np.arange(size)
    node = np.repeat(walk.roots[:, np.newaxis], size, axis=1)
    for _ in range(walk.steps):
        x = np.take(values, np.take(offset, node, mode="clip") + row, mode="clip")
        goes_right = x > np.take(walk.cut_all, node, mode="clip")
        node = np.take(walk.children, 2 * node + goes_right, mode="clip")
    path: FloatArray = np.take(walk.path_length, node, mode="clip").sum(axis=0)
    return path


def _to_score(total: FloatArray, denominator: float) -> FloatArray:
    """``2 ** -(total / denominator)``; the denominator is 0 when ``max_samples`` is 1, and
    scikit-learn then takes the ratio as 1 (a score of 0.5)."""
    ratio = total / denominator if denominator else np.ones_like(total)
    score: FloatArray = 2.0**-ratio
    return score


def _ratio(total: float, denominator: float) -> float:
    """One row's ``total / denominator``, as in :func:`_to_score`."""
    return total / denominator if denominator else 1.0


def _average_path_length(n_samples: npt.ArrayLike) -> FloatArray:
    """scikit-learn's ``c(n)``: 0 for n <= 1, 1 for n = 2, else ``2 H(n-1) - 2 (n-1) / n``.

    Written with the same operations in the same order so the result is bit-for-bit equal.
    """
    n = np.asarray(n_samples, dtype=np.float64)
    safe = np.maximum(n, 3.0)
    general = 2.0 * (np.log(safe - 1.0) + np.euler_gamma) - 2.0 * (safe - 1.0) / safe
    result: FloatArray = np.where(n <= 1, 0.0, np.where(n == 2, 1.0, general))
    return result


def _extract(forest: Any) -> _Forest:
    """The fitted trees' arrays, concatenated; children shifted to global node indices."""
    trees = [estimator.tree_ for estimator in forest.estimators_]
    sizes = np.array([tree.node_count for tree in trees], dtype=np.int64)
    roots = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    return _Forest(
        feature=np.concatenate([tree.feature for tree in trees]).astype(np.int64),
        threshold=np.concatenate([tree.threshold for tree in trees]).astype(np.float64),
        children_left=_global_children([tree.children_left for tree in trees], roots),
        children_right=_global_children([tree.children_right for tree in trees], roots),
        path_length=np.concatenate([_node_path_lengths(tree) for tree in trees]),
        roots=roots,
        max_samples=int(forest.max_samples_),
    )


def _global_children(children: list[IntArray], roots: IntArray) -> IntArray:
    """Per-tree child indices shifted by their tree's first node; leaves keep ``LEAF``."""
    shifted = [np.where(c == LEAF, LEAF, c + root) for c, root in zip(children, roots, strict=True)]
    return np.concatenate(shifted).astype(np.int64)


def _node_path_lengths(tree: Any) -> FloatArray:
    """scikit-learn's ``decision_path_length + c(n_node_samples) - 1.0``, root at depth 1."""
    depths = np.asarray(tree.compute_node_depths(), dtype=np.int64)
    lengths: FloatArray = depths + _average_path_length(tree.n_node_samples) - 1.0
    return lengths


def _training_rows(X: npt.ArrayLike, feature_names: Sequence[str]) -> FloatArray:
    """``X`` as float64, with rows, one column per named feature and no value beyond float32.

    Infinite or huge values are refused rather than fitted: scikit-learn would draw split
    thresholds between them and the rest of the data that mean nothing.
    """
    rows = np.asarray(X, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[0] == 0 or rows.shape[1] != len(feature_names):
        raise AnomalyModelError(
            f"X has shape {rows.shape}; expected at least one row and "
            f"{len(feature_names)} columns, one per feature name"
        )
    beyond = np.flatnonzero((np.abs(rows) > FLOAT32_MAX).any(axis=0))
    if beyond.size:
        names = ", ".join(feature_names[i] for i in beyond[:5])
        raise AnomalyModelError(f"X has infinite or beyond-float32 values in columns {names}")
    return rows


def _medians(rows: FloatArray) -> FloatArray:
    """Each column's median over its observed values; 0 for a column never observed.

    All-NaN columns are left out of ``nanmedian``, which would warn about them.
    """
    fill = np.zeros(rows.shape[1])
    observed = ~np.isnan(rows).all(axis=0)
    if observed.any():
        fill[observed] = np.nanmedian(rows[:, observed], axis=0)
    return fill


def _impute(rows: FloatArray, fill: FloatArray) -> FloatArray:
    """Rows with every NaN replaced by its column's fill value."""
    filled: FloatArray = np.where(np.isnan(rows), fill, rows)
    return filled


def _round_down_to_float32(values: FloatArray) -> Float32Array:
    """The largest float32 not above each value, so float32 comparisons with it are exact."""
    nearest = values.astype(np.float32)
    lower = np.nextafter(nearest, np.float32(-np.inf))
    rounded: Float32Array = np.where(nearest > values, lower, nearest)
    return rounded


def _build_walk(forest: _Forest, n_columns: int) -> _Walk:
    """Renumber the nodes (internal ones by column, then leaves) and derive the scoring arrays."""
    internal = np.flatnonzero(forest.children_left != LEAF)
    internal = internal[np.argsort(forest.feature[internal], kind="stable")]
    order = np.concatenate((internal, np.flatnonzero(forest.children_left == LEAF)))
    new_id = np.empty_like(order)
    new_id[order] = np.arange(order.size)
    left = new_id[forest.children_left[internal]]
    right = new_id[forest.children_right[internal]]
    leaves = np.arange(internal.size, order.size, dtype=np.int64)
    cut = _round_down_to_float32(forest.threshold[internal])
    return _Walk(
        per_column=np.bincount(forest.feature[internal], minlength=n_columns).astype(np.int64),
        cut=cut,
        left=left,
        right=right,
        leaves=leaves,
        column=np.concatenate((forest.feature[internal], np.zeros_like(leaves))),
        cut_all=np.concatenate((cut, np.full(leaves.size, np.inf, dtype=np.float32))),
        children=np.column_stack((np.append(left, leaves), np.append(right, leaves))).ravel(),
        path_length=forest.path_length[order],
        roots=new_id[forest.roots],
        steps=_depth(forest),
        denominator=float(forest.roots.size * _average_path_length(forest.max_samples)),
    )


def _depth(forest: _Forest) -> int:
    """The deepest leaf's distance from its root, in edges: how many steps a walk needs."""
    frontier, depth = forest.roots, 0
    while True:
        inner = frontier[forest.children_left[frontier] != LEAF]
        if inner.size == 0:
            return depth
        frontier = np.concatenate((forest.children_left[inner], forest.children_right[inner]))
        depth += 1


def _read_only(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The array, frozen: models are shared between threads and must never change."""
    values = np.array(values)
    values.flags.writeable = False
    return values


def _read_npz(data: bytes) -> dict[str, npt.NDArray[Any]]:
    """The model's arrays from an ``.npz`` archive, each checked and in native byte order."""
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
    except UNREADABLE as error:
        raise AnomalyModelError(f"not an anomaly model: unreadable .npz ({error})") from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise AnomalyModelError("not an anomaly model: a single .npy array, not an .npz archive")
    try:
        with loaded:
            arrays = {name: loaded[name] for name in ARRAYS if name in loaded.files}
    except UNREADABLE as error:
        raise AnomalyModelError(f"not an anomaly model: unreadable .npz ({error})") from error
    return {name: _checked(arrays, name) for name in ARRAYS}


def _checked(arrays: dict[str, Any], name: str) -> npt.NDArray[Any]:
    """The named array as the model needs it, or an error naming what is wrong with it."""
    expected, ndim = ARRAYS[name]
    if name not in arrays:
        raise AnomalyModelError(f"anomaly model has no '{name}' array")
    value = arrays[name]
    if not isinstance(value, np.ndarray):
        raise AnomalyModelError(f"anomaly model '{name}' is not a .npy array")
    is_text = expected == "str"
    if is_text:
        matches = value.dtype.kind == "U"
    else:
        matches = value.dtype.newbyteorder("=") == np.dtype(expected)
    if value.ndim != ndim or not matches:
        raise AnomalyModelError(
            f"anomaly model '{name}' is {value.ndim}-D {value.dtype}, expected {ndim}-D {expected}"
        )
    return value if is_text else value.astype(expected)


def _check_features(feature_names: Sequence[str], fill_values: FloatArray) -> None:
    """One distinct, non-empty name and one finite float32-range fill value per column."""
    names = list(feature_names)
    if not names or len(set(names)) != len(names) or not all(names):
        raise AnomalyModelError(f"feature_names must be distinct and non-empty, got {names[:5]}")
    if fill_values.shape != (len(names),) or not (np.abs(fill_values) <= FLOAT32_MAX).all():
        raise AnomalyModelError(
            f"fill_values must hold {len(names)} finite numbers, got {fill_values[:5]}"
        )


def _check_forest(forest: _Forest, n_columns: int) -> None:
    """Refuse arrays that are not trees, or that a walk would leave."""
    n_nodes = forest.feature.size
    sizes = {forest.threshold.size, forest.children_left.size, forest.children_right.size}
    if n_nodes == 0 or sizes | {forest.path_length.size} != {n_nodes}:
        raise AnomalyModelError("anomaly model node arrays are empty or of different lengths")
    if forest.max_samples < 1:
        raise AnomalyModelError(f"anomaly model max_samples is {forest.max_samples}")
    _check_links(forest)
    _check_nodes(forest, n_columns)


def _check_links(forest: _Forest) -> None:
    """Children after their parent, one parent each, and the roots exactly the parentless.

    Together these make a forest of trees: every walk goes down and ends on a leaf.
    """
    left, right = forest.children_left, forest.children_right
    if not np.array_equal(left == LEAF, right == LEAF):
        raise AnomalyModelError("anomaly model has nodes with exactly one child")
    inner = np.flatnonzero(left != LEAF)
    children = np.concatenate((left[inner], right[inner]))
    if ((children <= np.tile(inner, 2)) | (children >= left.size)).any():
        raise AnomalyModelError("anomaly model children point outside the nodes or upwards")
    parents = np.bincount(children, minlength=left.size)
    if parents.max(initial=0) > 1:
        raise AnomalyModelError("anomaly model has nodes with two parents")
    if not np.array_equal(np.flatnonzero(parents == 0), forest.roots):
        raise AnomalyModelError("anomaly model roots are not the nodes without a parent")


def _check_nodes(forest: _Forest, n_columns: int) -> None:
    """Internal nodes test a real column at a float32-range threshold; leaves add a number."""
    inner = forest.children_left != LEAF
    feature, threshold = forest.feature[inner], forest.threshold[inner]
    if ((feature < 0) | (feature >= n_columns)).any():
        raise AnomalyModelError(f"anomaly model feature indices outside 0..{n_columns - 1}")
    if not (np.abs(threshold) <= FLOAT32_MAX).all():
        raise AnomalyModelError("anomaly model threshold is NaN or outside the float32 range")
    if not np.isfinite(forest.path_length[~inner]).all():
        raise AnomalyModelError("anomaly model path_length is not finite at some leaf")


def _as_booster(forest: _Forest, n_columns: int) -> "lgb.Booster | None":
    """The forest as a LightGBM model whose raw score is a row's total path length.

    None when a tree is a single leaf, which LightGBM's text format cannot say as a split.
    """
    import lightgbm as lgb

    ends = np.append(forest.roots[1:], forest.feature.size)
    if bool((forest.children_left[forest.roots] == LEAF).any()):
        return None
    names = " ".join(f"x{i}" for i in range(n_columns))
    lines = [
        "tree", "version=v4", "num_class=1", "num_tree_per_iteration=1", "label_index=0",
        f"max_feature_idx={n_columns - 1}", "objective=regression",
        f"feature_names={names}", "feature_infos=" + " ".join(["none"] * n_columns), "",
    ]  # fmt: skip
    for index, (start, end) in enumerate(zip(forest.roots, ends, strict=True)):
        lines += _tree_lines(forest, index, np.arange(start, end))
    lines += ["end of trees", ""]
    return lgb.Booster(model_str="\n".join(lines))


def _tree_lines(forest: _Forest, index: int, nodes: IntArray) -> list[str]:
    """One tree in LightGBM's text format: internal nodes numbered from 0, leaves as ~i."""
    is_leaf = forest.children_left[nodes] == LEAF
    internal, leaves = nodes[~is_leaf], nodes[is_leaf]
    number = np.zeros(forest.feature.size, dtype=np.int64)
    number[internal] = np.arange(internal.size)
    number[leaves] = -(np.arange(leaves.size) + 1)
    cut = _round_down_to_float32(forest.threshold[internal]).astype(np.float64)

    def join(values: Any) -> str:
        return " ".join(repr(v) if isinstance(v, float) else str(v) for v in values)

    zeros_internal, zeros_leaves = "0 " * internal.size, "0 " * leaves.size
    return [
        f"Tree={index}",
        f"num_leaves={leaves.size}",
        "num_cat=0",
        "split_feature=" + join(forest.feature[internal].tolist()),
        "split_gain=" + zeros_internal.strip(),
        "threshold=" + join(cut.tolist()),
        "decision_type=" + " ".join(["2"] * internal.size),  # numerical, default left, no NaN
        "left_child=" + join(number[forest.children_left[internal]].tolist()),
        "right_child=" + join(number[forest.children_right[internal]].tolist()),
        "leaf_value=" + join(forest.path_length[leaves].tolist()),
        "leaf_weight=" + zeros_leaves.strip(),
        "leaf_count=" + zeros_leaves.strip(),
        "internal_value=" + zeros_internal.strip(),
        "internal_weight=" + zeros_internal.strip(),
        "internal_count=" + zeros_internal.strip(),
        "is_linear=0",
        "shrinkage=1",
        "",
        "",
    ]
