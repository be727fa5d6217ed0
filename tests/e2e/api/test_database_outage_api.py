"""When the database goes away, scoring answers 503 quickly (never a 500), and health says so."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from tests.e2e.api.test_scoring_api import PREDICT, tx
from tests.fixtures.api import api_settings
from tests.fixtures.db import SERVER_URL

from txguard.api.app import create_app
from txguard.domain.enums import Role
from txguard.runtime import build_runtime
from txguard.security.accounts import issue_api_key
from txguard.store import migrate
from txguard.store.engine import create_db_engine

pytestmark = pytest.mark.postgres


def test_a_lost_database_is_a_503_with_the_error_shape(
    postgres_database_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = postgres_database_factory()
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    runtime = build_runtime(api_settings(url, tmp_path, breaker_fail_max=2, db_connect_timeout_s=1))
    key = issue_api_key(runtime.engine, owner="switch", actor="test", role=Role.SERVICE).raw
    with TestClient(create_app(runtime), raise_server_exceptions=False) as api:
        api.headers["X-API-Key"] = key
        assert api.post(PREDICT, json=tx("before")).status_code == 200
        server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            name = url.rsplit("/", 1)[1]
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()

        answers = [api.post(PREDICT, json=tx(f"during-{i}")) for i in range(4)]
        health = api.get("/api/v1/health")

    assert [a.status_code for a in answers] == [503] * 4
    assert all(a.json()["error"]["code"] == "unavailable" for a in answers)
    assert health.status_code == 503
    assert health.json()["components"]["database"]["status"] == "down"
