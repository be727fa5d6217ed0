"""``txguard serve`` in production refuses to start on an unsafe setting, and names it.

Each case starts from settings that are safe and spoils one; the server never starts, the
exit code is non-zero, and the message says which variable to fix, without a traceback.
"""

import pytest
from tests.fixtures.cli import Txguard

STRONG = "a-production-secret-of-forty-characters!"
SAFE = {
    "TXGUARD_ENV": "production",
    "TXGUARD_DATABASE_URL": "postgresql+psycopg://txguard@db.invalid:5432/txguard",
    "TXGUARD_TOKEN_KEY": STRONG,
    "TXGUARD_JWT_SECRET": STRONG[::-1],
}


@pytest.mark.parametrize(
    ("spoiled", "named"),
    [
        ({"TXGUARD_TOKEN_KEY": None}, "TXGUARD_TOKEN_KEY"),
        ({"TXGUARD_JWT_SECRET": None}, "TXGUARD_JWT_SECRET"),
        ({"TXGUARD_JWT_SECRET": "dev-only-jwt-secret-change-me-0000"}, "TXGUARD_JWT_SECRET"),
        ({"TXGUARD_WEBHOOK_SECRET": "hunter2"}, "TXGUARD_WEBHOOK_SECRET"),
        ({"TXGUARD_DATABASE_URL": None}, "TXGUARD_DATABASE_URL"),
        ({"TXGUARD_CORS_ORIGINS": '["https://ok.example", "*"]'}, "TXGUARD_CORS_ORIGINS"),
    ],
)
def test_serve_refuses_each_unsafe_production_setting(
    txguard_no_db: Txguard,
    monkeypatch: pytest.MonkeyPatch,
    spoiled: dict[str, str | None],
    named: str,
) -> None:
    for name, value in {**SAFE, **spoiled}.items():
        if value is not None:
            monkeypatch.setenv(name, value)

    result = txguard_no_db("serve", "--port", "8799")

    assert result.exit_code != 0
    assert named in result.output
    assert "Traceback" not in result.output
    assert "txguard API on" not in result.output
