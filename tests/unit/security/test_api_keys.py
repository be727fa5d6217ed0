"""API keys: ``txg_<key id>_<secret>``, only the secret's SHA-256 is kept."""

import hashlib
import re

import pytest

from txguard.security import api_keys
from txguard.security.errors import AuthenticationError


def test_a_new_key_has_the_documented_shape() -> None:
    issued = api_keys.generate()
    assert re.fullmatch(r"txg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", issued.raw)
    assert issued.raw.startswith(f"txg_{issued.key_id}_")


def test_keys_are_unique_and_the_stored_hash_is_the_secrets_sha256() -> None:
    first, second = api_keys.generate(), api_keys.generate()
    assert first.key_id != second.key_id and first.raw != second.raw
    secret = api_keys.parse(first.raw).secret
    assert first.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in first.secret_hash


def test_the_key_parses_back_and_its_secret_matches_its_hash() -> None:
    issued = api_keys.generate()
    parsed = api_keys.parse(issued.raw)
    assert parsed.key_id == issued.key_id
    assert api_keys.secret_matches(parsed.secret, issued.secret_hash)
    changed = parsed.secret[:-1] + ("A" if parsed.secret[-1] != "A" else "B")
    assert not api_keys.secret_matches(changed, issued.secret_hash)


def test_the_secret_is_kept_out_of_repr() -> None:
    issued = api_keys.generate()
    secret = api_keys.parse(issued.raw).secret
    assert secret not in repr(issued) and secret not in repr(api_keys.parse(issued.raw))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "txg_",
        "Bearer abc",
        "txg_0123456789abcdef",
        "txg_0123456789ABCDEF_" + "a" * 43,
        "txg_0123456789abcde_" + "a" * 43,
        "txg_0123456789abcdef_" + "a" * 42,
        "txg_0123456789abcdef_" + "a" * 42 + "!",
        "key_0123456789abcdef_" + "a" * 43,
    ],
)
def test_a_malformed_key_is_refused_saying_what_a_key_looks_like(raw: str) -> None:
    with pytest.raises(AuthenticationError, match="expected txg_") as error:
        api_keys.parse(raw)
    assert error.value.reason == "malformed API key"
