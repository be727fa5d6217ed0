"""A model version as one self-describing file: what it reads, how it decides, what it scored.

The file is a zip of a JSON manifest, the booster in LightGBM's text format and the anomaly
forest as plain arrays: no pickle, so loading an artifact never runs code from it. The bytes
are written deterministically (fixed entry dates and order), so the same training gives the
same SHA-256, and a file whose digest differs from the registry's is refused.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from txguard.domain.errors import TxguardError
from txguard.features.definitions import FEATURE_SET_VERSION
from txguard.models.anomaly import AnomalyModel
from txguard.models.fraud import Calibration, FraudModel
from txguard.models.thresholds import Thresholds

FORMAT = "txguard-model/1"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


class ArtifactError(TxguardError):
    """A model artifact that cannot be trusted: corrupt, tampered with, or of another format."""


@dataclass
class ModelBundle:
    """Everything a scoring process needs from one model version."""

    version: str
    feature_names: tuple[str, ...]
    thresholds: Thresholds
    fraud: FraudModel | None = None
    anomaly: AnomalyModel | None = None
    feature_set_version: str = FEATURE_SET_VERSION
    label_delay_days: float = 7.0
    train_start: str | None = None
    train_end: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        """What decides: the supervised model, or the anomaly model for a bank without labels."""
        return "lightgbm" if self.fraud is not None else "isolation-forest"

    def manifest(self) -> dict[str, Any]:
        """The JSON description stored inside the artifact and shown by ``models show``."""
        calibration = self.fraud.calibration if self.fraud else None
        return {
            "format": FORMAT,
            "version": self.version,
            "algorithm": self.algorithm,
            "feature_names": list(self.feature_names),
            "feature_set_version": self.feature_set_version,
            "label_delay_days": self.label_delay_days,
            "train_start": self.train_start,
            "train_end": self.train_end,
            "thresholds": self.thresholds.to_dict(),
            "calibration": None if calibration is None else vars(calibration),
            "metrics": self.metrics,
            "has_anomaly_model": self.anomaly is not None,
        }


def to_bytes(bundle: ModelBundle) -> bytes:
    """The artifact's bytes; the same bundle always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _put(archive, "manifest.json", json.dumps(bundle.manifest(), indent=2, sort_keys=True))
        if bundle.fraud is not None:
            _put(archive, "fraud.txt", bundle.fraud.to_text())
        if bundle.anomaly is not None:
            _put(archive, "anomaly.npz", bundle.anomaly.to_bytes())
    return buffer.getvalue()


def _put(archive: zipfile.ZipFile, name: str, data: str | bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def sha256(data: bytes) -> str:
    """The digest the registry records and checks at load."""
    return hashlib.sha256(data).hexdigest()


def from_bytes(
    data: bytes, expected_sha256: str | None = None, source: str = "artifact"
) -> ModelBundle:
    """A bundle read back from ``to_bytes``; refuses bytes that are not exactly what was saved."""
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise ArtifactError(
            f"{source} is corrupt: its SHA-256 {sha256(data)[:12]}… differs from the "
            f"registered {expected_sha256[:12]}…; retrain or restore the file"
        )
    try:
        return _read(data)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{source} is not a readable txguard model: {exc}") from exc


def _read(data: bytes) -> ModelBundle:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"unknown format {manifest.get('format')!r}, expected {FORMAT!r}")
        names = tuple(manifest["feature_names"])
        fraud = None
        if "fraud.txt" in archive.namelist():
            calibration = Calibration(**manifest["calibration"])
            fraud = FraudModel.from_text(archive.read("fraud.txt").decode(), names, calibration)
        anomaly = None
        if manifest.get("has_anomaly_model"):
            anomaly = AnomalyModel.from_bytes(archive.read("anomaly.npz"))
    return ModelBundle(
        version=manifest["version"],
        feature_names=names,
        thresholds=Thresholds.from_dict(manifest["thresholds"]),
        fraud=fraud,
        anomaly=anomaly,
        feature_set_version=manifest["feature_set_version"],
        label_delay_days=float(manifest["label_delay_days"]),
        train_start=manifest["train_start"],
        train_end=manifest["train_end"],
        metrics=manifest["metrics"],
    )
