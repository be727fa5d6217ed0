"""The model registry on both backends: versions, the serving pointer, rollback, bad artifacts."""

import dataclasses
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from txguard.domain.enums import ModelStatus
from txguard.domain.errors import InputError, NotFoundError
from txguard.models.artifact import ArtifactError, ModelBundle, sha256, to_bytes
from txguard.registry import service as registry
from txguard.store.orm import DeploymentEventRow, ModelVersionRow


@pytest.fixture
def other_bundle(trained_bundle: ModelBundle) -> ModelBundle:
    """A second version of the same model, to switch between."""
    return dataclasses.replace(trained_bundle, version="m-other")


def _status(engine: Engine, version: str) -> ModelStatus:
    return registry.get_version(engine, version).status


def _events(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    """(action, version, previous version) of every deployment event, oldest first."""
    with Session(engine) as session:
        names = dict(session.execute(select(ModelVersionRow.id, ModelVersionRow.version)).all())
        rows = session.scalars(select(DeploymentEventRow).order_by(DeploymentEventRow.id))
        return [
            (
                row.action,
                names.get(row.model_version_id) if row.model_version_id else None,
                names.get(row.previous_model_version_id) if row.previous_model_version_id else None,
            )
            for row in rows
        ]


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_registered_version_is_listed_with_the_digest_of_its_file(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path / "models", actor="alice")
    assert version == trained_bundle.version
    [row] = registry.list_versions(engine)
    assert row.version == version
    assert row.status is ModelStatus.REGISTERED
    assert row.algorithm == "lightgbm"
    assert row.created_by == "alice"
    path = Path(row.artifact_uri)
    assert path.parent == (tmp_path / "models").resolve()
    assert row.artifact_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert row.artifact_sha256 == sha256(to_bytes(trained_bundle))
    assert row.feature_names == list(trained_bundle.feature_names)
    assert row.thresholds == trained_bundle.thresholds.to_dict()
    assert row.train_start is not None and f"{row.train_start:%Y-%m-%d}" == "2018-04-11"
    assert registry.active_version(engine) is None


def test_a_version_cannot_be_registered_twice(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    registry.register(engine, trained_bundle, tmp_path, actor=None)
    before = Path(registry.get_version(engine, trained_bundle.version).artifact_uri).read_bytes()
    with pytest.raises(InputError, match=f"{trained_bundle.version} is already registered"):
        registry.register(engine, trained_bundle, tmp_path, actor=None)
    assert [r.version for r in registry.list_versions(engine)] == [trained_bundle.version]
    after = Path(registry.get_version(engine, trained_bundle.version).artifact_uri).read_bytes()
    assert after == before


def test_activating_serves_the_version(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.activate(engine, version, actor="alice")
    assert registry.active_version(engine) == version
    assert _status(engine, version) is ModelStatus.ACTIVE
    active = registry.load_active(engine)
    assert active.problem is None
    assert active.bundle is not None
    assert active.bundle.version == version
    assert active.bundle.thresholds == trained_bundle.thresholds
    assert _events(engine) == [("activate", version, None)]


def test_activating_another_version_retires_the_first_and_rollback_returns_to_it(
    engine: Engine, trained_bundle: ModelBundle, other_bundle: ModelBundle, tmp_path: Path
) -> None:
    first = registry.register(engine, trained_bundle, tmp_path, actor=None)
    second = registry.register(engine, other_bundle, tmp_path, actor=None)
    assert [r.version for r in registry.list_versions(engine)] == [second, first]
    registry.activate(engine, first, actor="alice")
    registry.activate(engine, second, actor="alice")
    assert registry.active_version(engine) == second
    assert _status(engine, first) is ModelStatus.RETIRED
    assert _status(engine, second) is ModelStatus.ACTIVE

    assert registry.rollback(engine, actor="bob") == first
    assert registry.active_version(engine) == first
    assert _status(engine, first) is ModelStatus.ACTIVE
    assert _status(engine, second) is ModelStatus.RETIRED
    assert _events(engine)[-1] == ("rollback", first, second)
    loaded = registry.load_active(engine).bundle
    assert loaded is not None and loaded.version == first


def test_activating_the_serving_version_again_changes_nothing(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.activate(engine, version, actor=None)
    registry.activate(engine, version, actor=None)
    assert _events(engine) == [("activate", version, None)]
    assert _status(engine, version) is ModelStatus.ACTIVE


def test_rollback_without_an_earlier_version_is_refused(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="no earlier model version to roll back to"):
        registry.rollback(engine, actor=None)
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.activate(engine, version, actor=None)
    with pytest.raises(InputError, match="no earlier model version to roll back to"):
        registry.rollback(engine, actor=None)
    assert registry.active_version(engine) == version


def test_an_unknown_version_is_not_found_and_the_known_ones_are_listed(
    engine: Engine, trained_bundle: ModelBundle, other_bundle: ModelBundle, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="'m-nope' does not exist.*run `txguard train`"):
        registry.get_version(engine, "m-nope")
    registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.register(engine, other_bundle, tmp_path, actor=None)
    for call in (registry.get_version, registry.load_version):
        with pytest.raises(NotFoundError) as raised:
            call(engine, "m-nope")
        message = str(raised.value)
        assert "'m-nope'" in message
        assert trained_bundle.version in message and "m-other" in message
    with pytest.raises(NotFoundError, match="m-other"):
        registry.activate(engine, "m-nope", actor=None)
    assert registry.active_version(engine) is None


def test_no_active_version_means_the_rules_decide_alone(engine: Engine) -> None:
    active = registry.load_active(engine)
    assert active.bundle is None
    assert active.problem is not None and "no model is active" in active.problem


def test_a_corrupted_artifact_is_refused_and_scoring_runs_degraded(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    path = Path(registry.get_version(engine, version).artifact_uri)
    _flip_a_byte(path)
    with pytest.raises(ArtifactError, match=f"model {version}.*is corrupt"):
        registry.activate(engine, version, actor=None)
    assert registry.active_version(engine) is None
    assert _status(engine, version) is ModelStatus.REGISTERED


def test_an_artifact_corrupted_while_serving_degrades_scoring_with_the_reason(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.activate(engine, version, actor=None)
    _flip_a_byte(Path(registry.get_version(engine, version).artifact_uri))
    with pytest.raises(ArtifactError, match="corrupt"):
        registry.load_version(engine, version)
    active = registry.load_active(engine)
    assert active.bundle is None
    assert active.problem is not None
    assert version in active.problem and "corrupt" in active.problem
    assert "rules only" in active.problem


def test_a_failed_activation_keeps_the_serving_version(
    engine: Engine, trained_bundle: ModelBundle, other_bundle: ModelBundle, tmp_path: Path
) -> None:
    first = registry.register(engine, trained_bundle, tmp_path, actor=None)
    second = registry.register(engine, other_bundle, tmp_path, actor=None)
    registry.activate(engine, first, actor=None)
    _flip_a_byte(Path(registry.get_version(engine, second).artifact_uri))
    with pytest.raises(ArtifactError, match="corrupt"):
        registry.activate(engine, second, actor=None)
    assert registry.active_version(engine) == first
    assert _status(engine, first) is ModelStatus.ACTIVE
    loaded = registry.load_active(engine).bundle
    assert loaded is not None and loaded.version == first


def test_a_deleted_artifact_is_named_in_the_error(
    engine: Engine, trained_bundle: ModelBundle, tmp_path: Path
) -> None:
    version = registry.register(engine, trained_bundle, tmp_path, actor=None)
    registry.activate(engine, version, actor=None)
    path = Path(registry.get_version(engine, version).artifact_uri)
    path.unlink()
    with pytest.raises(ArtifactError, match=f"model {version}: cannot read its artifact"):
        registry.load_version(engine, version)
    active = registry.load_active(engine)
    assert active.bundle is None
    assert active.problem is not None
    assert str(path) in active.problem and "rules only" in active.problem
    with pytest.raises(ArtifactError) as raised:
        registry.activate(engine, version, actor=None)
    assert str(path) in str(raised.value)
