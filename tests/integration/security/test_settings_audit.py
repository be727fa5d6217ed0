"""Settings that matter are audited when they change between starts, secrets never."""

from pathlib import Path

from sqlalchemy import Engine

from txguard.security.settings_audit import ACTION, record_settings
from txguard.settings import Settings
from txguard.store import audit
from txguard.store.audit import AuditFilters

SECRET = "a-signing-secret-of-at-least-32-characters"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, jwt_secret=SECRET, **values)  # type: ignore[arg-type]


def _events(engine: Engine) -> list[audit.AuditRecord]:
    return audit.page(engine, after_id=None, limit=10, filters=AuditFilters(action=ACTION))


def test_a_change_is_recorded_once_with_before_and_after(engine: Engine, tmp_path: Path) -> None:
    assert record_settings(engine, _settings(tmp_path))
    assert not record_settings(engine, _settings(tmp_path))
    assert record_settings(engine, _settings(tmp_path, rate_limit_per_minute=50))

    latest, first = _events(engine)
    assert first.before is None and first.after is not None
    assert latest.before == first.after
    assert latest.after is not None and latest.after["rate_limit_per_minute"] == 50
    assert latest.actor == "system:startup"
    assert audit.verify(engine).problem is None


def test_a_rotated_signing_key_shows_as_its_kid_never_as_the_secret(
    engine: Engine, tmp_path: Path
) -> None:
    record_settings(engine, _settings(tmp_path))
    rotated = Settings(
        data_dir=tmp_path,
        jwt_secret="the-next-signing-secret-of-32-characters!",  # type: ignore[arg-type]
        jwt_previous_secrets=[SECRET],  # type: ignore[list-item]
        webhook_secret="a-webhook-secret-of-at-least-32-characters",  # type: ignore[arg-type]
    )

    assert record_settings(engine, rotated)

    latest = _events(engine)[0]
    assert latest.after is not None and latest.before is not None
    assert latest.after["jwt_accepted_kids"] == [latest.before["jwt_signing_kid"]]
    assert latest.after["webhook_enabled"] is True
    text = repr(latest)
    assert SECRET not in text and "the-next-signing" not in text and "a-webhook" not in text
