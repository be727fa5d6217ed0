"""Administrators and auditors page through the audit trail over HTTP; others may not."""

from fastapi.testclient import TestClient
from tests.fixtures.api import Credentials, call_as

from txguard.domain.audit import check_chain, from_document
from txguard.domain.enums import Role
from txguard.models.artifact import ModelBundle

AUDIT = "/api/v1/audit"


def _make_changes(api: TestClient) -> None:
    created = api.post("/api/v1/lists", json={"name": "blocked", "kind": "terminal"})
    assert created.status_code == 201, created.text
    added = api.post("/api/v1/lists/blocked/entries", json={"values": ["T-1", "T-2"]})
    assert added.status_code == 200, added.text


def test_the_trail_pages_newest_first_and_the_pages_chain(
    api: TestClient, served_model: ModelBundle
) -> None:
    _make_changes(api)
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = api.get(AUDIT, params=params).json()
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [item["id"] for item in items]
    assert ids == sorted(ids, reverse=True) and ids[-1] == 1
    assert pages == (len(ids) + 1) // 2
    records = [from_document(item) for item in reversed(items)]
    assert check_chain(records).problem is None
    newest = items[0]
    assert (newest["action"], newest["entity_id"]) == ("list.entries_added", "blocked")
    assert newest["actor"].startswith("key:")
    assert newest["after"] == {"added": ["T-1", "T-2"]}
    assert served_model.version in {item["entity_id"] for item in items}


def test_the_trail_filters_by_actor_action_entity_and_time(api: TestClient) -> None:
    _make_changes(api)
    lists = api.get(AUDIT, params={"entity_type": "list"}).json()["items"]
    assert [item["action"] for item in lists] == ["list.entries_added", "list.created"]
    created = api.get(AUDIT, params={"action": "list.created"}).json()["items"]
    assert [item["entity_id"] for item in created] == ["blocked"]
    by_system = api.get(AUDIT, params={"actor": "system"}).json()["items"]
    assert "rule.saved" in {item["action"] for item in by_system}
    assert {item["actor"] for item in by_system} == {"system"}
    future = api.get(AUDIT, params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future == {"items": [], "next_cursor": None}
    past = api.get(AUDIT, params={"until": "2000-01-01T00:00:00Z"}).json()
    assert past["items"] == []


def test_bad_paging_and_times_are_refused_naming_the_field(api: TestClient) -> None:
    for params, field in (
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "99999999999999999999"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"since": "yesterday"}, "since"),
    ):
        answer = api.get(AUDIT, params=params)
        assert answer.status_code == 422, params
        fields = [f["field"] for f in answer.json()["error"]["fields"]]
        assert any(field in name for name in fields), (params, fields)


def test_only_administrators_and_auditors_read_the_trail(
    api: TestClient, credentials: Credentials
) -> None:
    expected = {Role.ADMIN: 200, Role.AUDITOR: 200, Role.ANALYST: 403, Role.SERVICE: 403}
    for role, status in expected.items():
        assert call_as(api, "GET", AUDIT, headers=credentials[role]).status_code == status, role
    assert call_as(api, "GET", AUDIT, headers={}).status_code == 401
