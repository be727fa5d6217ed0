"""Audit every pin of constraints.txt, including those pip-audit had to skip.

pip-audit reads a pin's advisories from PyPI's per-release record
(``/pypi/<name>/<version>/json``). Where that record is not served (some registry mirrors
answer 404), pip-audit skips the pin, and a run that skipped every pin still exits 0. This
script reads pip-audit's JSON report and checks each skipped pin against the project record
(``/pypi/<name>/json``), whose ``vulnerabilities`` are the advisories open on the latest
release:

- a pin at the latest release has exactly those advisories;
- an older pin is held to them too (an advisory open on the latest release is reported even
  if it came later), and is named as partly audited: advisories fixed after it are not in
  the project record.

It exits 1 on any advisory not accepted with ``--ignore-vuln`` (by id or alias), whether
pip-audit or the project record found it, and on any pin that could not be checked.

    python tools/lock_advisories.py REPORT.json constraints.txt [--ignore-vuln ID ...]
"""

import argparse
import json
import re
import sys
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_URL = "https://pypi.org/pypi/{name}/json"
TIMEOUT_S = 30


@dataclass(frozen=True)
class Advisory:
    """One advisory: PyPI's id (PYSEC-…, GHSA-…), its other ids and the releases that fix it."""

    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()

    def named(self, ignored: set[str]) -> bool:
        """Accepted by ``--ignore-vuln``: the same advisory may be named by any of its ids."""
        return self.id in ignored or not ignored.isdisjoint(self.aliases)

    def describe(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fixed = ", ".join(self.fixed_in) or "no fixed release"
        return f"{self.id}{aliases}, fixed in: {fixed}"


@dataclass(frozen=True)
class Project:
    """What the project record tells: the latest release and the advisories open on it."""

    latest: str
    advisories: tuple[Advisory, ...]


@dataclass
class Audit:
    """Counts of pins audited each way, and one line per pin that needs a person."""

    by_pip_audit: int = 0
    by_project: int = 0
    vulnerable: list[str] = field(default_factory=list)
    partly: list[str] = field(default_factory=list)
    unaudited: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.vulnerable and not self.unaudited


Fetch = Callable[[str], Project]


def canonical(name: str) -> str:
    """PEP 503 name, the form pip-audit's report and PyPI's URLs use."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(lines: Iterable[str]) -> dict[str, str]:
    """``name==version`` lines of a constraints file, by canonical name."""
    pins: dict[str, str] = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            name, sep, version = text.partition("==")
            if not sep:
                raise ValueError(f"constraints: {text!r} is not pinned with ==")
            pins[canonical(name)] = version.strip()
    return pins


def project_from_json(document: Mapping[str, Any]) -> Project:
    """The latest release and its open advisories; withdrawn ones no longer apply."""
    advisories = tuple(
        Advisory(v["id"], tuple(v.get("aliases") or ()), tuple(v.get("fixed_in") or ()))
        for v in document.get("vulnerabilities") or ()
        if not v.get("withdrawn")
    )
    return Project(str(document["info"]["version"]), advisories)


def fetch_project(name: str) -> Project:
    url = PROJECT_URL.format(name=name)
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 -- fixed https URL
        return project_from_json(json.load(response))


def audit(
    report: Mapping[str, Any], pins: Mapping[str, str], fetch: Fetch, ignored: set[str]
) -> Audit:
    """Sort every pin into audited, partly audited, vulnerable or unaudited."""
    result = Audit()
    reported = {canonical(dep["name"]): dep for dep in report["dependencies"]}
    for name, version in sorted(pins.items()):
        dep = reported.get(name)
        if dep is None:
            result.unaudited.append(f"{name} {version}: missing from pip-audit's report")
        elif "skip_reason" in dep:
            _check_project(result, name, version, fetch, ignored)
        else:
            result.by_pip_audit += 1
            _record(result, name, version, _advisories_of(dep), ignored)
    return result


def _advisories_of(dep: Mapping[str, Any]) -> list[Advisory]:
    return [
        Advisory(v["id"], tuple(v.get("aliases") or ()), tuple(v.get("fix_versions") or ()))
        for v in dep.get("vulns") or ()
    ]


def _check_project(result: Audit, name: str, version: str, fetch: Fetch, ignored: set[str]) -> None:
    try:
        project = fetch(name)
    except (OSError, ValueError, KeyError) as error:
        result.unaudited.append(f"{name} {version}: PyPI project record unavailable ({error})")
        return
    result.by_project += 1
    if project.latest != version:
        result.partly.append(f"{name} {version} (latest {project.latest})")
    _record(result, name, version, project.advisories, ignored)


def _record(
    result: Audit, name: str, version: str, advisories: Iterable[Advisory], ignored: set[str]
) -> None:
    seen: set[str] = set()  # PyPI lists one advisory once per database (PYSEC, GHSA)
    for advisory in advisories:
        if not advisory.named(ignored | seen):
            result.vulnerable.append(f"{name} {version}: {advisory.describe()}")
        seen |= {advisory.id, *advisory.aliases}


def render(result: Audit) -> list[str]:
    lines = [
        f"pins audited by pip-audit: {result.by_pip_audit}; "
        f"against PyPI's project advisories: {result.by_project}"
    ]
    if result.partly:
        lines.append("partly audited (older than the latest release; advisories fixed since")
        lines.append("  are not in the project record): " + ", ".join(result.partly))
    lines += [f"VULNERABLE {line}" for line in result.vulnerable]
    lines += [f"NOT AUDITED {line}" for line in result.unaudited]
    lines.append("no known advisory" if result.passed else "dependency audit failed")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Audit the pins pip-audit skipped.")
    parser.add_argument("report", type=Path, help="pip-audit --format json output")
    parser.add_argument("constraints", type=Path)
    parser.add_argument("--ignore-vuln", action="append", default=[], metavar="ID")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    pins = read_pins(args.constraints.read_text(encoding="utf-8").splitlines())
    result = audit(report, pins, fetch_project, set(args.ignore_vuln))
    sys.stdout.write("\n".join(render(result)) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
