"""Register, list, activate and roll back model versions; load the one that serves.

Artifacts are files named by version in the artifact directory; the database holds each
version's manifest, its SHA-256 and the deployment pointer every process reads. Loading
checks the bytes against the registered digest, so a corrupted or swapped file is refused
instead of silently scoring with the wrong model. Registering and every move of the
pointer write an audit event in the same transaction.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, desc, select
from sqlalchemy.orm import Session

from txguard.domain.enums import ModelStatus
from txguard.domain.errors import InputError, NotFoundError
from txguard.models.artifact import ArtifactError, ModelBundle, from_bytes, sha256, to_bytes
from txguard.store import audit
from txguard.store.orm import DeploymentEventRow, ModelDeploymentRow, ModelVersionRow

CHAMPION = "champion"
_AUDIT_ACTIONS = {"activate": "model.activated", "rollback": "model.rolled_back"}


@dataclass(frozen=True)
class ActiveModel:
    """What serves now: the bundle, or why there is none (the pipeline then runs degraded)."""

    bundle: ModelBundle | None
    problem: str | None = None


def register(
    engine: Engine,
    bundle: ModelBundle,
    directory: Path,
    actor: str | None,
    *,
    data: bytes | None = None,
) -> str:
    """Write the artifact and record the version; registering the same version is refused.

    ``data`` are the artifact's bytes when they were built elsewhere (a CI run): kept byte for
    byte, so the registered digest is the one its builder published. ``bundle`` is what they
    hold, its metrics possibly completed by the caller (stored on the version, not in the file).
    """
    data = to_bytes(bundle) if data is None else data
    with Session(engine) as session, session.begin():
        if session.scalar(
            select(ModelVersionRow.id).where(ModelVersionRow.version == bundle.version)
        ):
            raise InputError(f"model version {bundle.version} is already registered")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{bundle.version}.txgm"
        path.write_bytes(data)
        session.add(
            ModelVersionRow(
                version=bundle.version,
                status=ModelStatus.REGISTERED,
                algorithm=bundle.algorithm,
                artifact_uri=str(path.resolve()),
                artifact_sha256=sha256(data),
                feature_set_version=bundle.feature_set_version,
                feature_names=list(bundle.feature_names),
                metrics=bundle.metrics,
                thresholds=bundle.thresholds.to_dict(),
                train_start=_day(bundle.train_start),
                train_end=_day(bundle.train_end),
                created_by=actor,
            )
        )
        audit.record(
            session,
            actor=actor,
            action="model.registered",
            entity_type="model",
            entity_id=bundle.version,
            after=_registered(bundle, sha256(data)),
        )
    return bundle.version


def _registered(bundle: ModelBundle, digest: str) -> dict[str, object]:
    """What identifies the version; its metrics are in the artifact the digest pins."""
    return {
        "version": bundle.version,
        "status": ModelStatus.REGISTERED.value,
        "algorithm": bundle.algorithm,
        "artifact_sha256": digest,
        "feature_set_version": bundle.feature_set_version,
        "thresholds": bundle.thresholds.to_dict(),
        "train_start": bundle.train_start,
        "train_end": bundle.train_end,
    }


def _day(text: str | None) -> datetime | None:
    if text is None:
        return None
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def list_versions(engine: Engine) -> list[ModelVersionRow]:
    """Every registered version, newest first."""
    with Session(engine) as session:
        rows = session.scalars(select(ModelVersionRow).order_by(desc(ModelVersionRow.id)))
        return list(rows)


def get_version(engine: Engine, version: str) -> ModelVersionRow:
    """One version, or a ``NotFoundError`` that lists what exists."""
    with Session(engine) as session:
        row = session.scalar(select(ModelVersionRow).where(ModelVersionRow.version == version))
        if row is None:
            known = session.scalars(
                select(ModelVersionRow.version).order_by(desc(ModelVersionRow.id))
            )
            names = ", ".join(list(known)[:5]) or "none yet; run `txguard train`"
            raise NotFoundError(f"model version {version!r} does not exist (known: {names})")
        return row


def active_version(engine: Engine) -> str | None:
    """The version the champion slot points at."""
    with Session(engine) as session:
        pointer = session.get(ModelDeploymentRow, CHAMPION)
        if pointer is None:
            return None
        row = session.get(ModelVersionRow, pointer.model_version_id)
        return row.version if row is not None else None


def activate(engine: Engine, version: str, actor: str | None, action: str = "activate") -> None:
    """Point the champion slot at ``version``, after proving its artifact loads."""
    row = get_version(engine, version)
    _load(row)
    with Session(engine) as session, session.begin():
        pointer = session.get(ModelDeploymentRow, CHAMPION)
        previous = pointer.model_version_id if pointer is not None else None
        if previous == row.id:
            return
        if pointer is None:
            session.add(
                ModelDeploymentRow(slot=CHAMPION, model_version_id=row.id, updated_by=actor)
            )
        else:
            pointer.model_version_id = row.id
            pointer.updated_by = actor
            pointer.updated_at = datetime.now(UTC)
        _set_status(session, previous, ModelStatus.RETIRED)
        _set_status(session, row.id, ModelStatus.ACTIVE)
        session.add(
            DeploymentEventRow(
                slot=CHAMPION,
                action=action,
                model_version_id=row.id,
                previous_model_version_id=previous,
                actor=actor,
            )
        )
        audit.record(
            session,
            actor=actor,
            action=_AUDIT_ACTIONS.get(action, f"model.{action}"),
            entity_type="model",
            entity_id=version,
            before={"active_version": _version_of(session, previous)},
            after={"active_version": version},
        )


def _version_of(session: Session, row_id: int | None) -> str | None:
    row = session.get(ModelVersionRow, row_id) if row_id is not None else None
    return row.version if row is not None else None


def _set_status(session: Session, row_id: int | None, status: ModelStatus) -> None:
    if row_id is None:
        return
    row = session.get(ModelVersionRow, row_id)
    if row is not None:
        row.status = status


def rollback(engine: Engine, actor: str | None) -> str:
    """Serve again the version that served before the current one."""
    with Session(engine) as session:
        last = session.scalar(
            select(DeploymentEventRow)
            .where(DeploymentEventRow.slot == CHAMPION)
            .order_by(desc(DeploymentEventRow.id))
            .limit(1)
        )
        if last is None or last.previous_model_version_id is None:
            raise InputError("there is no earlier model version to roll back to")
        previous = session.get(ModelVersionRow, last.previous_model_version_id)
        if previous is None:
            raise NotFoundError("the previous model version is no longer registered")
        version = previous.version
    activate(engine, version, actor, action="rollback")
    return version


def load_version(engine: Engine, version: str) -> ModelBundle:
    """A registered version's bundle, verified against its digest."""
    return _load(get_version(engine, version))


def _load(row: ModelVersionRow) -> ModelBundle:
    path = Path(row.artifact_uri)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"model {row.version}: cannot read its artifact {path}: {exc}") from exc
    return from_bytes(data, row.artifact_sha256, source=f"model {row.version} ({path})")


def load_active(engine: Engine) -> ActiveModel:
    """The champion's bundle, or the reason the pipeline must run on rules alone."""
    version = active_version(engine)
    if version is None:
        return ActiveModel(None, "no model is active: decisions use the rules only")
    try:
        return ActiveModel(load_version(engine, version))
    except ArtifactError as exc:
        return ActiveModel(None, f"{exc}; decisions use the rules only")
