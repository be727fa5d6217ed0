"""Deploy a model version built elsewhere: verify its artifact, register it, gate its activation.

This is what the CI/CD hook calls. The artifact is a file the pipeline has already put in
the model directory; its bytes must have the SHA-256 the caller states, and are registered
byte for byte. The metrics the caller sends complete or override the artifact's own (a CI
run may evaluate on data the training did not see); they are stored on the version, and
the gates read them. Deploying the same version again changes nothing and says so, so a
pipeline can retry; the same version name with other bytes is a conflict.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from sqlalchemy import Engine

from txguard.domain.errors import ConflictError, InputError, NotFoundError
from txguard.models.artifact import ArtifactError, ModelBundle, from_bytes, sha256
from txguard.registry import gates as quality_gates
from txguard.registry import service as registry
from txguard.registry.gates import GateResult


class DeployInputError(InputError):
    """A deploy request naming an artifact or digest that cannot be used; ``field`` says which."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class ArtifactNotFoundError(NotFoundError):
    """The artifact named is not in the model directory (not uploaded yet, or misspelt)."""

    field = "artifact"


@dataclass(frozen=True)
class Deployment:
    """What a deploy did: registered now or before, serving or not, and each gate's result."""

    version: str
    registered: bool
    activated: bool
    gates: list[GateResult]


def relative_artifact_path(text: str) -> PurePosixPath:
    """``text`` as a path inside the model directory; absolute paths and ``..`` are refused."""
    path = PurePosixPath(text)
    if not text or "\\" in text or "\x00" in text:
        raise ValueError("must be a relative path with / separators")
    if path.is_absolute():
        raise ValueError("must be relative to the model directory, not absolute")
    if ".." in path.parts:
        raise ValueError("must not leave the model directory with '..'")
    return path


def deploy(
    engine: Engine,
    *,
    artifact: str,
    expected_sha256: str,
    metrics: Mapping[str, float],
    activate: bool,
    directory: Path,
    gates: Mapping[str, float],
    actor: str,
) -> Deployment:
    """Register the artifact's version and activate it when asked and every gate passes."""
    data = _read(directory, artifact)
    bundle = _verified(data, expected_sha256)
    bundle = replace(bundle, metrics={**bundle.metrics, **metrics})
    results = quality_gates.evaluate(gates, bundle.metrics)
    registered = _register(engine, bundle, data, directory, actor)
    if activate and quality_gates.all_passed(results):
        registry.activate(engine, bundle.version, actor)
    serving = registry.active_version(engine) == bundle.version
    return Deployment(bundle.version, registered, serving, results)


def _read(directory: Path, artifact: str) -> bytes:
    try:
        relative = relative_artifact_path(artifact)
    except ValueError as exc:
        raise DeployInputError(f"artifact: {exc}", "artifact") from None
    root = directory.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):  # a symbolic link pointing out of the directory
        raise DeployInputError("artifact: resolves outside the model directory", "artifact")
    if not path.is_file():
        raise ArtifactNotFoundError(f"artifact {artifact!r} is not in the model directory")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeployInputError(
            f"artifact: cannot read {artifact!r}: {exc.strerror}", "artifact"
        ) from exc


def _verified(data: bytes, expected_sha256: str) -> ModelBundle:
    digest = sha256(data)
    if digest != expected_sha256.lower():
        raise DeployInputError(
            f"sha256: the artifact's digest is {digest}, not the {expected_sha256} stated; "
            "the file is incomplete or not the one built",
            "sha256",
        )
    try:
        return from_bytes(data)
    except ArtifactError as exc:
        raise DeployInputError(f"artifact: {exc}", "artifact") from None


def _register(
    engine: Engine, bundle: ModelBundle, data: bytes, directory: Path, actor: str
) -> bool:
    """True when this call registered the version, False when the same bytes already were."""
    if _already_registered(engine, bundle.version, sha256(data)):
        return False
    try:
        registry.register(engine, bundle, directory, actor, data=data)
    except InputError:  # registered by a concurrent call between the check and the insert
        if _already_registered(engine, bundle.version, sha256(data)):
            return False
        raise
    return True


def _already_registered(engine: Engine, version: str, digest: str) -> bool:
    try:
        row = registry.get_version(engine, version)
    except NotFoundError:
        return False
    if row.artifact_sha256 != digest:
        raise ConflictError(
            f"model version {version} is already registered with another artifact "
            f"(sha256 {row.artifact_sha256}); build it under a new version"
        )
    return True
