"""A model version is one verifiable file: same training, same bytes; tampering is refused."""

import numpy as np
import pytest
from tests.fixtures.models import TRAIN_END, TRAIN_START

from txguard.models.artifact import ArtifactError, from_bytes, sha256, to_bytes
from txguard.models.training import TrainingOptions
from txguard.scoring.trainer import train, training_set


def test_a_bundle_reads_back_scoring_exactly_the_same(trained_bundle, small_history):
    data = training_set(small_history, TRAIN_START, TRAIN_END, _config())
    back = from_bytes(to_bytes(trained_bundle))
    assert back.version == trained_bundle.version
    assert back.thresholds == trained_bundle.thresholds
    assert back.feature_names == trained_bundle.feature_names
    assert back.fraud is not None and trained_bundle.fraud is not None
    np.testing.assert_array_equal(
        back.fraud.probability(data.features), trained_bundle.fraud.probability(data.features)
    )
    assert back.anomaly is not None and trained_bundle.anomaly is not None
    np.testing.assert_array_equal(
        back.anomaly.score(data.features), trained_bundle.anomaly.score(data.features)
    )
    assert back.manifest() == trained_bundle.manifest()


def test_training_twice_gives_the_same_version_and_bytes(trained_bundle, small_history):
    again = train(
        small_history,
        TRAIN_START,
        TRAIN_END,
        label_delay_days=7,
        options=TrainingOptions(alerts_per_day=20),
    )
    assert again.version == trained_bundle.version
    assert to_bytes(again) == to_bytes(trained_bundle)


def test_a_changed_byte_is_refused_naming_the_digest(trained_bundle):
    data = bytearray(to_bytes(trained_bundle))
    digest = sha256(bytes(data))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ArtifactError, match="corrupt: its SHA-256"):
        from_bytes(bytes(data), digest, source="model m1")


def test_bytes_that_are_not_a_model_are_refused():
    with pytest.raises(ArtifactError, match="not a readable txguard model"):
        from_bytes(b"certainly not a zip file")


def test_the_manifest_records_what_governance_needs(trained_bundle):
    manifest = trained_bundle.manifest()
    assert manifest["train_start"] == "2018-04-11" and manifest["train_end"] == "2018-04-21"
    assert manifest["label_delay_days"] == 7
    assert manifest["thresholds"]["alerts_per_day"] == 20
    assert 0.5 < manifest["metrics"]["validation_auc_roc"] <= 1.0
    assert manifest["calibration"]["slope"] > 0


def _config():
    from datetime import timedelta

    from txguard.features.definitions import FeatureConfig

    return FeatureConfig(label_delay=timedelta(days=7))
