"""constraints.txt is the lock `make install` uses: it must still match pyproject.toml."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from tools.lock_advisories import canonical, read_pins

ROOT = Path(__file__).resolve().parents[2]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [line for group in project["optional-dependencies"].values() for line in group]
    return [Requirement(line) for line in project["dependencies"] + extras]


def pinned_within(requirement: Requirement, pinned: str | None) -> bool:
    return pinned is not None and requirement.specifier.contains(pinned, prereleases=True)


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = read_pins((ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines())

    stale = [
        f"{requirement} (pinned: {pins.get(canonical(requirement.name), 'none')})"
        for requirement in declared()
        if requirement.marker is None or requirement.marker.evaluate()
        if not pinned_within(requirement, pins.get(canonical(requirement.name)))
    ]

    assert stale == [], "constraints.txt is stale: run `make lock` and commit it"
