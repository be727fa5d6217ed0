"""Access and refresh tokens: only HS256 tokens of ours, unexpired, for our audience, pass."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from txguard.domain.errors import ConfigurationError
from txguard.security.access_tokens import TokenCodec, key_id
from txguard.security.errors import GENERIC_MESSAGE, AuthenticationError
from txguard.settings import Settings

SECRET = "s" * 40
OLD_SECRET = "o" * 40


@pytest.fixture(autouse=True)
def _clean(isolated_env: Path) -> None:
    """No TXGUARD_* variables from outside."""


def codec(clock: Any = time.time, **overrides: Any) -> TokenCodec:
    values: dict[str, Any] = {"jwt_secret": SECRET, **overrides}
    return TokenCodec(Settings(**values), clock)


def refused(token: str, reason: str, *, by: TokenCodec | None = None, typ: Any = "access") -> None:
    with pytest.raises(AuthenticationError) as error:
        (by or codec()).verify(token, typ)
    assert reason in error.value.reason
    assert str(error.value) == GENERIC_MESSAGE


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _decode(header), _decode(payload), signature


def _decode(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _encode(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def forged(header: dict[str, Any], payload: dict[str, Any], algorithm: Any = hashlib.sha256) -> str:
    """A token signed by hand with SECRET under any header."""
    signing_input = f"{_encode(header)}.{_encode(payload)}"
    digest = hmac.new(SECRET.encode(), signing_input.encode(), algorithm).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_an_access_token_verifies_with_its_claims() -> None:
    issued = codec().issue("access", "alice", role="ANALYST")
    claims = codec().verify(issued.token, "access")
    assert (claims.subject, claims.role, claims.typ, claims.jti) == (
        "alice", "ANALYST", "access", issued.jti
    )  # fmt: skip
    assert claims.expires_at - claims.issued_at == 900
    header, payload, _ = segments(issued.token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": key_id(SECRET)}
    assert {"iss": "txguard", "aud": "txguard-api"}.items() <= payload.items()
    assert {"iat", "nbf", "exp", "jti", "sub", "typ"} <= payload.keys()


def test_the_refresh_token_lives_as_long_as_the_setting_says() -> None:
    issued = codec(refresh_token_ttl_s=3600).issue("refresh", "alice")
    claims = codec().verify(issued.token, "refresh")
    assert claims.expires_at - claims.issued_at == 3600 and claims.role is None


def test_an_expired_token_is_refused_and_the_leeway_is_a_few_seconds() -> None:
    now = time.time()
    refused(codec(lambda: now - 910).issue("access", "alice").token, "expired")
    assert codec().verify(codec(lambda: now - 902).issue("access", "a").token, "access")


def test_a_token_from_the_future_is_refused() -> None:
    future = codec(lambda: time.time() + 120).issue("access", "alice").token
    refused(future, "not valid yet")


def test_a_tampered_payload_is_refused() -> None:
    token = codec().issue("access", "alice", role="ANALYST").token
    header, payload, signature = token.split(".")
    claims = _decode(payload) | {"role": "ADMIN"}
    refused(f"{header}.{_encode(claims)}.{signature}", "Signature verification failed")


def test_a_tampered_signature_is_refused() -> None:
    token = codec().issue("access", "alice").token
    last = token[-2]
    refused(token[:-2] + ("A" if last != "A" else "B") + token[-1], "Signature")


def test_a_token_for_another_audience_or_issuer_is_refused() -> None:
    refused(codec(jwt_audience="other-api").issue("access", "a").token, "InvalidAudienceError")
    refused(codec(jwt_issuer="someone-else").issue("access", "a").token, "InvalidIssuerError")


def test_alg_none_is_refused() -> None:
    header, payload, _ = segments(codec().issue("access", "alice", role="ADMIN").token)
    header["alg"] = "none"
    refused(f"{_encode(header)}.{_encode(payload)}.", "algorithm 'none' refused")
    unsigned = jwt.encode(payload, None, algorithm="none", headers={"kid": key_id(SECRET)})
    refused(unsigned, "algorithm 'none' refused")


@pytest.mark.parametrize(("alg", "digest"), [("HS512", hashlib.sha512), ("RS256", hashlib.sha256)])
def test_algorithm_confusion_is_refused(alg: str, digest: Any) -> None:
    header, payload, _ = segments(codec().issue("access", "alice", role="ADMIN").token)
    refused(forged(header | {"alg": alg}, payload, digest), f"algorithm '{alg}' refused")


def test_a_forged_token_under_the_right_header_verifies_only_with_the_secret() -> None:
    """The forger above is a faithful signer: the refusals come from the header alone."""
    header, payload, _ = segments(codec().issue("access", "alice").token)
    assert codec().verify(forged(header, payload), "access").subject == "alice"


def test_a_refresh_token_is_no_access_token_and_the_reverse() -> None:
    refused(codec().issue("refresh", "alice").token, "'refresh' token where 'access'")
    refused(codec().issue("access", "alice").token, "'access' token", typ="refresh")


def test_a_token_missing_a_required_claim_is_refused() -> None:
    header, payload, _ = segments(codec().issue("access", "alice").token)
    del payload["jti"]
    refused(forged(header, payload), 'Token is missing the "jti" claim')


def test_garbage_is_refused_as_malformed() -> None:
    refused("not.a.token", "malformed")
    refused("", "malformed")


def test_a_token_signed_with_a_previous_secret_verifies_during_rotation() -> None:
    old_token = codec(jwt_secret=OLD_SECRET).issue("access", "alice").token
    rotated = codec(jwt_previous_secrets=[OLD_SECRET])
    assert rotated.verify(old_token, "access").subject == "alice"
    new_header, _, _ = segments(rotated.issue("access", "bob").token)
    assert new_header["kid"] == key_id(SECRET) != key_id(OLD_SECRET)


def test_a_token_signed_with_an_unknown_secret_is_refused() -> None:
    stranger = codec(jwt_secret="u" * 40).issue("access", "alice").token
    refused(stranger, "unknown signing key id", by=codec(jwt_previous_secrets=[OLD_SECRET]))
    header, payload, _ = segments(codec().issue("access", "alice").token)
    refused(forged(header | {"kid": "someone-else"}, payload), "unknown signing key id")


def test_a_short_signing_secret_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="TXGUARD_JWT_SECRET must be at least 32 bytes"):
        codec(jwt_secret="short")
    with pytest.raises(ConfigurationError, match=r"TXGUARD_JWT_PREVIOUS_SECRETS\[0\]"):
        codec(jwt_previous_secrets=["short"])
