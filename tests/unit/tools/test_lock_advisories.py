import json
from pathlib import Path

import pytest
from tools import lock_advisories
from tools.lock_advisories import Advisory, Project, audit, read_pins, render

SKIPPED = "Dependency not found on PyPI and could not be audited"
ADVISORY = Advisory("PYSEC-1", ("CVE-1", "GHSA-1"), ("2.0.1",))


def skipped(*names: str) -> dict[str, object]:
    return {"dependencies": [{"name": n, "skip_reason": SKIPPED} for n in names], "fixes": []}


def records(**projects: Project) -> lock_advisories.Fetch:
    def fetch(name: str) -> Project:
        if name not in projects:
            raise OSError("HTTP Error 404: Not Found")
        return projects[name]

    return fetch


def test_a_skipped_pin_at_the_latest_release_fails_on_its_open_advisory() -> None:
    result = audit(
        skipped("foo"), {"foo": "2.0.0"}, records(foo=Project("2.0.0", (ADVISORY,))), set()
    )

    assert not result.passed
    assert result.vulnerable == ["foo 2.0.0: PYSEC-1 (CVE-1, GHSA-1), fixed in: 2.0.1"]
    assert result.by_project == 1


def test_an_advisory_accepted_by_id_or_alias_passes() -> None:
    fetch = records(foo=Project("2.0.0", (ADVISORY,)))

    assert audit(skipped("foo"), {"foo": "2.0.0"}, fetch, {"PYSEC-1"}).passed
    assert audit(skipped("foo"), {"foo": "2.0.0"}, fetch, {"GHSA-1"}).passed


def test_an_older_pin_is_named_partly_audited_and_held_to_the_latest_advisories() -> None:
    fetch = records(foo=Project("3.1.0", (ADVISORY,)), bar=Project("1.0", ()))

    result = audit(skipped("foo", "bar"), {"foo": "2.0.0", "bar": "0.9"}, fetch, {"CVE-1"})

    assert result.passed
    assert result.partly == ["bar 0.9 (latest 1.0)", "foo 2.0.0 (latest 3.1.0)"]


def test_a_pin_that_cannot_be_looked_up_fails_the_audit() -> None:
    result = audit(skipped("foo"), {"foo": "1.0"}, records(), set())

    assert not result.passed
    assert result.unaudited == [
        "foo 1.0: PyPI project record unavailable (HTTP Error 404: Not Found)"
    ]
    assert "NOT AUDITED foo 1.0" in "\n".join(render(result))


def test_a_pin_missing_from_the_report_fails_the_audit() -> None:
    result = audit(skipped(), {"foo": "1.0"}, records(), set())

    assert result.unaudited == ["foo 1.0: missing from pip-audit's report"]


def test_what_pip_audit_found_counts_and_its_clean_pins_need_no_lookup() -> None:
    report = {
        "dependencies": [
            {"name": "Foo", "version": "1.0", "vulns": [{"id": "GHSA-2", "fix_versions": []}]},
            {"name": "bar", "version": "2.0", "vulns": []},
        ]
    }

    result = audit(report, {"foo": "1.0", "bar": "2.0"}, records(), set())

    assert result.vulnerable == ["foo 1.0: GHSA-2, fixed in: no fixed release"]
    assert result.by_pip_audit == 2


def test_withdrawn_advisories_are_dropped_from_the_project_record() -> None:
    document = {
        "info": {"version": "1.0"},
        "vulnerabilities": [
            {"id": "A", "aliases": ["CVE-A"], "fixed_in": ["1.1"], "withdrawn": None},
            {"id": "B", "aliases": [], "fixed_in": [], "withdrawn": "2024-01-01T00:00:00"},
        ],
    }

    project = lock_advisories.project_from_json(document)

    assert project == Project("1.0", (Advisory("A", ("CVE-A",), ("1.1",)),))


def test_constraints_are_read_by_canonical_name_and_must_be_pinned() -> None:
    lines = ["# header", "", "Foo_Bar.baz==1.2  # why", "PyYAML==6.0.3"]

    assert read_pins(lines) == {"foo-bar-baz": "1.2", "pyyaml": "6.0.3"}
    with pytest.raises(ValueError, match="'foo>=1' is not pinned"):
        read_pins(["foo>=1"])


def test_the_command_exits_non_zero_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": [], "fixes": []}), encoding="utf-8")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("foo==1.0\n", encoding="utf-8")

    assert lock_advisories.main([str(report), str(constraints)]) == 1
    assert "NOT AUDITED foo 1.0: missing from pip-audit's report" in capsys.readouterr().out


def test_one_advisory_listed_by_two_databases_is_reported_once() -> None:
    twin = Advisory("GHSA-1", ("CVE-1", "PYSEC-1"), ("2.0.1",))
    fetch = records(foo=Project("2.0.0", (ADVISORY, twin)))

    result = audit(skipped("foo"), {"foo": "2.0.0"}, fetch, set())

    assert result.vulnerable == ["foo 2.0.0: PYSEC-1 (CVE-1, GHSA-1), fixed in: 2.0.1"]
