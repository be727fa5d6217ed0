"""Signed calls: only the holder of the secret, signing this body at about this time, passes."""

import hashlib
import hmac

import pytest

from txguard.security.signatures import SignatureError, sign, verify

SECRET = b"webhook-secret-for-tests-0123456789"
NOW = 1_700_000_000
BODY = b'{"artifact": "m-1.txgm", "sha256": "ab"}'
SIGNED = sign(SECRET, NOW, BODY)


def check(
    *,
    timestamp: str | None = str(NOW),
    signature: str | None = SIGNED,
    body: bytes = BODY,
    now: float = NOW,
    secret: bytes = SECRET,
    previous: tuple[bytes, ...] = (),
) -> str:
    return verify(
        secret, timestamp=timestamp, signature=signature, body=body, now=now, window_s=300,
        previous=previous,
    )  # fmt: skip


def test_the_signature_is_the_hmac_of_the_timestamp_a_dot_and_the_body() -> None:
    expected = hmac.new(SECRET, f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"
    assert check() == expected


def test_upper_case_hex_passes_and_gives_the_one_spelling_replays_are_known_by() -> None:
    upper = "sha256=" + SIGNED.removeprefix("sha256=").upper()

    assert check(signature=upper) == check()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": BODY.replace(b"m-1", b"m-2")}, "signature mismatch"),
        ({"body": BODY + b" "}, "signature mismatch"),
        ({"secret": b"another-secret"}, "signature mismatch"),
        ({"timestamp": str(NOW + 1)}, "signature mismatch"),
        ({"now": NOW + 301}, "stale timestamp"),
        ({"now": NOW - 301}, "timestamp in the future"),
        ({"timestamp": None}, "missing header X-Txguard-Timestamp"),
        ({"signature": None}, "missing header X-Txguard-Signature"),
        ({"timestamp": "1700000000.5"}, "malformed X-Txguard-Timestamp"),
        ({"timestamp": "-1700000000"}, "malformed X-Txguard-Timestamp"),
        ({"timestamp": "9" * 40}, "malformed X-Txguard-Timestamp"),
        ({"timestamp": ""}, "malformed X-Txguard-Timestamp"),
        ({"signature": "ab" * 32}, "malformed X-Txguard-Signature"),
        ({"signature": "sha256=" + "g" * 64}, "malformed X-Txguard-Signature"),
        ({"signature": "sha256=abc"}, "malformed X-Txguard-Signature"),
        ({"signature": "sha1=" + "a" * 40}, "malformed X-Txguard-Signature"),
    ],
)
def test_a_call_not_signed_as_agreed_is_refused_saying_why(
    change: dict[str, object], reason: str
) -> None:
    with pytest.raises(SignatureError) as refused:
        check(**change)  # type: ignore[arg-type]

    assert refused.value.reason.startswith(reason)


def test_the_edges_of_the_window_still_pass() -> None:
    assert check(now=NOW + 300) == check(now=NOW - 300)


def test_a_call_signed_with_a_previous_secret_passes_during_rotation() -> None:
    old = b"the-secret-being-retired"
    signed_with_old = sign(old, NOW, BODY)

    assert check(signature=signed_with_old, secret=SECRET, previous=(old,))
    with pytest.raises(SignatureError, match="mismatch"):
        check(signature=signed_with_old, secret=SECRET)
