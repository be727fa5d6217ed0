import re

import txguard
from txguard import domain


def test_version_is_semantic() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", txguard.__version__)


def test_public_surface_is_explicit() -> None:
    assert txguard.__all__ == ["__version__"]
    for name in domain.__all__:
        assert getattr(domain, name).__module__.startswith("txguard.domain")
