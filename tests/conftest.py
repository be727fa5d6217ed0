"""Shared fixtures live in tests/fixtures/, one module per area."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.cli",
    "tests.fixtures.data",
    "tests.fixtures.featurestore",
    "tests.fixtures.models",
    "tests.fixtures.redis",
    "tests.fixtures.api",
]
