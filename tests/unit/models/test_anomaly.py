"""The anomaly model scores exactly as scikit-learn's IsolationForest, fast, and loads safely.

The reference is always ``-IsolationForest.score_samples`` of a forest fitted with the same
parameters on the same median-filled rows: scikit-learn is deterministic for a fixed seed,
so the reference forest is the very forest the model copied. Scored rows include NaNs,
rows sitting exactly on split thresholds (where float32 rounding decides the branch),
outliers that stop at shallow leaves and training rows that reach the deepest ones.
"""

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length as sklearn_average_path_length

from txguard.domain.errors import InputError
from txguard.models.anomaly import AnomalyModel, AnomalyModelError, _average_path_length

FloatArray = npt.NDArray[np.float64]
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Case:
    seed: int
    rows: int
    features: int
    n_estimators: int
    max_samples: int


CASES = [
    Case(seed=0, rows=4000, features=40, n_estimators=100, max_samples=256),
    Case(seed=1, rows=600, features=5, n_estimators=30, max_samples=64),
    Case(seed=2, rows=150, features=3, n_estimators=12, max_samples=256),  # capped at 150
    Case(seed=3, rows=80, features=1, n_estimators=9, max_samples=2),
    Case(seed=4, rows=40, features=2, n_estimators=5, max_samples=1),  # sklearn's 0.5 case
]


def names(count: int) -> list[str]:
    return [f"feature_{i}" for i in range(count)]


def training_rows(case: Case) -> FloatArray:
    """Skewed and scaled columns, 10% missing, one column never observed."""
    rng = np.random.default_rng(case.seed)
    rows = rng.lognormal(size=(case.rows, case.features)) * rng.uniform(0.01, 1000, case.features)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    if case.features > 2:
        rows[:, 1] = np.nan
    return rows


def filled(rows: FloatArray, fill: FloatArray) -> FloatArray:
    result: FloatArray = np.where(np.isnan(rows), fill, rows)
    return result


def reference_forest(case: Case, model: AnomalyModel, train: FloatArray) -> Any:
    return IsolationForest(
        n_estimators=case.n_estimators,
        max_samples=min(case.max_samples, case.rows),
        max_features=1.0,
        random_state=case.seed,
    ).fit(filled(train, model.fill_values))


def scored_rows(case: Case, train: FloatArray) -> FloatArray:
    """Training rows, perturbed rows, far outliers and NaN-heavy rows: a few thousand in all."""
    rng = np.random.default_rng(case.seed + 100)
    spread = np.std(np.nan_to_num(train), axis=0) + 1.0
    picked = train[rng.integers(0, case.rows, 1500)]
    noisy = picked + rng.normal(size=picked.shape) * spread
    outliers = rng.normal(size=(500, case.features)) * spread * 50
    sparse = noisy[:500].copy()
    sparse[rng.random(sparse.shape) < 0.5] = np.nan
    return np.vstack([picked, noisy, outliers, sparse])


def rows_on_thresholds(forest: Any, features: int) -> FloatArray:
    """Every split threshold, and its float32 and float64 neighbours, as feature values.

    scikit-learn compares float32(x) with a float64 threshold, so these are the values
    where a model that compared differently would take the other branch.
    """
    values = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        inner = tree.children_left != -1
        for feature, threshold in zip(tree.feature[inner], tree.threshold[inner], strict=True):
            t32 = np.float32(threshold)
            for value in (
                threshold,
                np.nextafter(threshold, np.inf),
                np.nextafter(threshold, -np.inf),
                float(t32),
                float(np.nextafter(t32, np.float32(np.inf))),
                float(np.nextafter(t32, np.float32(-np.inf))),
            ):
                values.append((feature, value))
    rows = np.full((len(values), features), np.nan)
    for i, (feature, value) in enumerate(values):
        rows[i, feature] = value
    return rows


def fitted(case: Case) -> tuple[AnomalyModel, Any, FloatArray]:
    train = training_rows(case)
    model = AnomalyModel.fit(
        train,
        names(case.features),
        seed=case.seed,
        n_estimators=case.n_estimators,
        max_samples=case.max_samples,
    )
    return model, reference_forest(case, model, train), train


@pytest.fixture(scope="module")
def main_case() -> tuple[AnomalyModel, Any, FloatArray]:
    return fitted(CASES[0])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"seed{c.seed}-{c.features}cols")
def test_scores_equal_sklearn(case: Case) -> None:
    model, forest, train = fitted(case)
    rows = scored_rows(case, train)
    expected = -forest.score_samples(filled(rows, model.fill_values))
    np.testing.assert_allclose(model.score(rows), expected, rtol=0, atol=TOLERANCE)
    one_by_one = np.array([model.score_one(row) for row in rows])
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("case", CASES[:3], ids=lambda c: f"seed{c.seed}")
def test_rows_on_split_thresholds_take_sklearns_branch(case: Case) -> None:
    model, forest, _ = fitted(case)
    rows = rows_on_thresholds(forest, case.features)
    expected = -forest.score_samples(filled(rows, model.fill_values))
    np.testing.assert_allclose(model.score(rows), expected, rtol=0, atol=TOLERANCE)
    sample = rows[:: max(1, len(rows) // 2000)]
    one_by_one = np.array([model.score_one(row.tolist()) for row in sample])
    np.testing.assert_allclose(one_by_one, -forest.score_samples(filled(sample, model.fill_values)))


def test_scored_rows_end_on_leaves_of_many_depths(main_case: tuple[Any, Any, Any]) -> None:
    """Guards the equality test itself: shallow and deep leaves are both exercised."""
    model, forest, train = main_case
    rows = filled(scored_rows(CASES[0], train), model.fill_values).astype(np.float32)
    depths = np.concatenate(
        [e.tree_.compute_node_depths()[e.apply(rows)] - 1 for e in forest.estimators_]
    )
    assert set(range(2, 9)) <= set(np.unique(depths).tolist())


def test_missing_values_take_the_training_median(main_case: tuple[Any, Any, Any]) -> None:
    model, _, train = main_case
    observed = [i for i in range(train.shape[1]) if i != 1]
    np.testing.assert_array_equal(
        model.fill_values[observed], np.nanmedian(train[:, observed], axis=0)
    )
    assert model.fill_values[1] == 0.0  # never observed in training
    row = train[7].copy()
    row[[0, 5, 9]] = np.nan
    assert model.score_one(row) == model.score_one(filled(row, model.fill_values))
    assert not np.isnan(model.score(row[np.newaxis])).any()


def test_fill_values_cannot_be_changed(main_case: tuple[Any, Any, Any]) -> None:
    model, _, _ = main_case
    with pytest.raises(ValueError, match="read-only"):
        model.fill_values[0] = 1.0


def test_round_trip_gives_identical_scores(main_case: tuple[Any, Any, Any]) -> None:
    model, _, train = main_case
    loaded = AnomalyModel.from_bytes(model.to_bytes())
    rows = scored_rows(CASES[0], train)
    np.testing.assert_array_equal(loaded.score(rows), model.score(rows))
    assert [loaded.score_one(r) for r in rows[:50]] == [model.score_one(r) for r in rows[:50]]
    assert loaded.feature_names == model.feature_names
    assert loaded.to_bytes() == model.to_bytes()


def test_the_saved_model_holds_plain_arrays_only(main_case: tuple[Any, Any, Any]) -> None:
    model, _, _ = main_case
    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)


def test_same_seed_same_model_other_seed_other_model() -> None:
    train = training_rows(CASES[1])
    first, again, other = (
        AnomalyModel.fit(train, names(5), seed=seed, n_estimators=30) for seed in (7, 7, 8)
    )
    assert first.to_bytes() == again.to_bytes()
    assert first.to_bytes() != other.to_bytes()


def test_outliers_score_higher_than_ordinary_transactions() -> None:
    """What an analyst sees: a card spending 40x its usual amount, at night, far from home."""
    rng = np.random.default_rng(11)
    amount = rng.lognormal(3.5, 0.6, 5000)
    hour = rng.normal(14, 3, 5000)
    distance_km = rng.exponential(5, 5000)
    ordinary = np.column_stack([amount, hour, distance_km])
    model = AnomalyModel.fit(ordinary[:4000], ["amount", "hour", "distance_km"], seed=1)
    unusual = np.array([[40 * 33.0, 3.0, 900.0], [2500.0, 13.0, 4.0], [30.0, 2.0, 1500.0]])
    ordinary_scores = model.score(ordinary[4000:])
    unusual_scores = model.score(unusual)
    assert unusual_scores.min() > np.quantile(ordinary_scores, 0.99)
    assert ((0 < ordinary_scores) & (ordinary_scores <= 1)).all()
    assert model.score_one([30.0, 14.0, np.nan]) < model.score_one([3000.0, 3.0, np.nan])


def bytes_with(data: bytes, **changes: Any) -> bytes:
    """A saved model with some arrays replaced (``None`` removes one)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value(arrays[name]) if callable(value) else value
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def edited(values: npt.NDArray[Any], index: int, value: Any) -> npt.NDArray[Any]:
    copy = values.copy()
    copy[index] = value
    return copy


def with_raw_member(data: bytes, name: str) -> bytes:
    """The archive with one member's .npy content replaced by plain bytes."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for member in source.namelist():
            archive.writestr(member, b"hello" if member == name else source.read(member))
    return target.getvalue()


def single_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_model_bytes() -> bytes:
    rows = np.random.default_rng(0).normal(size=(200, 3))
    return AnomalyModel.fit(rows, ["a", "b", "c"], n_estimators=4, max_samples=16).to_bytes()


CORRUPTIONS = {
    "empty": (lambda b: b"", "unreadable"),
    "not a zip": (lambda b: b"definitely not a model", "unreadable"),
    "truncated": (lambda b: b[: len(b) // 2], "unreadable"),
    "flipped byte": (lambda b: b[:300] + bytes([b[300] ^ 0xFF]) + b[301:], "unreadable"),
    "one .npy": (lambda b: single_npy(), "single .npy"),
    "missing array": (lambda b: bytes_with(b, roots=None), "no 'roots' array"),
    "wrong dtype": (
        lambda b: bytes_with(b, threshold=lambda t: t.astype(np.float32)),
        "'threshold' is 1-D float32, expected 1-D float64",
    ),
    "wrong format": (lambda b: bytes_with(b, format=np.array("other/9")), "format is other/9"),
    "child upwards": (
        lambda b: bytes_with(b, children_left=lambda c: edited(c, 1, 0)),
        "point outside the nodes or upwards",
    ),
    "one child": (
        lambda b: bytes_with(b, children_left=lambda c: edited(c, 0, -1)),
        "exactly one child",
    ),
    "feature out of range": (
        lambda b: bytes_with(b, feature=lambda f: edited(f, 0, 3)),
        "feature indices outside 0..2",
    ),
    "NaN threshold": (
        lambda b: bytes_with(b, threshold=lambda t: edited(t, 0, np.nan)),
        "threshold is NaN",
    ),
    "roots": (lambda b: bytes_with(b, roots=lambda r: r[:-1]), "roots are not the nodes"),
    "names": (
        lambda b: bytes_with(b, feature_names=np.array(["a", "a", "c"])),
        "distinct and non-empty",
    ),
    "short arrays": (
        lambda b: bytes_with(b, path_length=lambda p: p[:-1]),
        "different lengths",
    ),
    "no format": (lambda b: bytes_with(b, format=None), "no 'format' array"),
    "raw member": (lambda b: with_raw_member(b, "roots.npy"), "'roots' is not a .npy array"),
    "NaN fill": (
        lambda b: bytes_with(b, fill_values=lambda f: edited(f, 0, np.nan)),
        "fill_values must hold 3 finite numbers",
    ),
    "max_samples": (lambda b: bytes_with(b, max_samples=np.array(0)), "max_samples is 0"),
    "two parents": (
        lambda b: bytes_with(b, children_right=lambda c: edited(c, 0, 1)),
        "two parents",
    ),
    "infinite leaf": (
        lambda b: bytes_with(b, path_length=lambda p: edited(p, -1, np.inf)),
        "path_length is not finite",
    ),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_corrupt_bytes_raise_a_value_error_naming_the_problem(
    small_model_bytes: bytes, corrupt: tuple[Any, str]
) -> None:
    make, message = corrupt
    with pytest.raises(ValueError, match=message) as raised:
        AnomalyModel.from_bytes(make(small_model_bytes))
    assert isinstance(raised.value, InputError)


def test_pickled_arrays_are_refused(small_model_bytes: bytes) -> None:
    with np.load(io.BytesIO(small_model_bytes), allow_pickle=False) as archive:
        arrays: dict[str, Any] = {name: archive[name] for name in archive.files}
    arrays["feature_names"] = np.array(["a", "b", "c"], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **arrays)
    with pytest.raises(ValueError, match="unreadable"):
        AnomalyModel.from_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("rows", "feature_names", "kwargs", "message"),
    [
        (np.ones((10, 2)), ["a"], {}, "expected at least one row and 1 columns"),
        (np.ones((0, 2)), ["a", "b"], {}, "expected at least one row"),
        (
            np.array([[1.0, np.inf], [2.0, 3.0]]),
            ["a", "b"],
            {},
            "beyond-float32 values in columns b",
        ),
        (np.ones((10, 2)), ["a", "a"], {}, "distinct"),
        (np.ones((10, 2)), ["a", "b"], {"n_estimators": 0}, "at least 1"),
    ],
)
def test_fit_refuses_unusable_input(
    rows: FloatArray, feature_names: list[str], kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(AnomalyModelError, match=message):
        AnomalyModel.fit(rows, feature_names, **kwargs)


def test_a_column_never_observed_still_fits() -> None:
    model = AnomalyModel.fit(np.full((30, 2), np.nan), ["a", "b"], n_estimators=3)
    assert model.fill_values.tolist() == [0.0, 0.0]
    assert model.score_one([np.nan, np.nan]) == model.score(np.zeros((1, 2)))[0]


def test_scoring_refuses_rows_of_the_wrong_width(main_case: tuple[Any, Any, Any]) -> None:
    model, _, _ = main_case
    with pytest.raises(AnomalyModelError, match="expects 40 values"):
        model.score_one([1.0, 2.0])
    with pytest.raises(AnomalyModelError, match="expects 40 columns"):
        model.score(np.ones((3, 39)))
    assert model.score(np.empty((0, 40))).shape == (0,)


def test_huge_values_score_like_sklearn_without_warning(main_case: tuple[Any, Any, Any]) -> None:
    """Beyond float32 a value becomes infinite in scikit-learn's cast; here too, silently."""
    model, forest, _ = main_case
    row = np.full(40, 1e300)
    row[::2] = -1e300
    with np.errstate(over="ignore"):
        expected = -forest.score_samples(row[np.newaxis])
    assert model.score_one(row) == pytest.approx(expected[0], abs=TOLERANCE)
    np.testing.assert_allclose(model.score(row[np.newaxis]), expected, atol=TOLERANCE)


def test_average_path_length_is_sklearns_bit_for_bit() -> None:
    n = np.arange(0, 5000)
    np.testing.assert_array_equal(_average_path_length(n), sklearn_average_path_length(n))


def test_one_row_goes_through_lightgbm_unless_a_tree_is_a_single_leaf() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(2_000, 12))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    names = [f"c{i}" for i in range(12)]
    model = AnomalyModel.fit(rows, names, seed=3)
    assert model._booster is not None
    one = [model.score_one(row) for row in rows[:500]]
    np.testing.assert_allclose(one, model.score(rows[:500]), rtol=0, atol=1e-12)
    tiny = AnomalyModel.fit(rows, names, seed=3, max_samples=1)
    assert tiny._booster is None
    np.testing.assert_allclose(
        [tiny.score_one(row) for row in rows[:50]], tiny.score(rows[:50]), rtol=0, atol=1e-12
    )
