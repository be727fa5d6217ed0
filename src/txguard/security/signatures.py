"""HMAC-SHA256 signatures of machine-to-machine calls, such as the CI/CD deploy hook.

The sender signs ``"<unix seconds>." + raw body`` with the shared secret and sends the
timestamp and ``sha256=<hex>`` in two headers. Signing the timestamp with the body means a
captured call cannot be replayed later with a fresh timestamp; the window bounds how long
the receiver must remember signatures it has seen (``store.signatures``). Digests are
compared in constant time, so timing reveals nothing of the expected value.

Rotation: the receiver accepts the current secret and any previous ones it is given, so
senders can switch to a new secret before the old one is withdrawn.

>>> body = b'{"artifact": "m-1.txgm"}'
>>> signature = sign(b"secret", 1_700_000_000, body)
>>> verify(b"secret", timestamp="1700000000", signature=signature, body=body,
...        now=1_700_000_030, window_s=300) == signature.removeprefix("sha256=")
True
"""

import hashlib
import hmac
import re
from collections.abc import Sequence

from txguard.domain.errors import TxguardError

TIMESTAMP_HEADER = "X-Txguard-Timestamp"
SIGNATURE_HEADER = "X-Txguard-Signature"
PREFIX = "sha256="
_TIMESTAMP = re.compile(r"\d{1,12}", re.ASCII)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


class SignatureError(TxguardError):
    """A signed call whose signature is missing, malformed, stale or wrong; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Txguard-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    return PREFIX + _digest(secret, str(timestamp), body)


def _digest(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    window_s: int,
    previous: Sequence[bytes] = (),
) -> str:
    """Check a call's headers against its raw body; raise :class:`SignatureError` if wrong.

    Returns the signature's digest in lower-case hex: the one spelling of it, so a replay
    cannot pass as new by changing the case of its letters.
    """
    if timestamp is None:
        raise SignatureError(f"missing header {TIMESTAMP_HEADER}")
    if signature is None:
        raise SignatureError(f"missing header {SIGNATURE_HEADER}")
    sent_at = _timestamp(timestamp)
    _within_window(sent_at, now, window_s)
    digest = _hex_digest(signature)
    for key in (secret, *previous):
        if hmac.compare_digest(_digest(key, timestamp, body), digest):
            return digest
    raise SignatureError(
        f"signature mismatch: {SIGNATURE_HEADER} is not the HMAC-SHA256 of the timestamp "
        "and body under the webhook secret"
    )


def _timestamp(text: str) -> int:
    if _TIMESTAMP.fullmatch(text) is None:
        raise SignatureError(
            f"malformed {TIMESTAMP_HEADER}: expected unix seconds, e.g. 1700000000"
        )
    return int(text)


def _within_window(sent_at: int, now: float, window_s: int) -> None:
    age = now - sent_at
    if age > window_s:
        raise SignatureError(
            f"stale timestamp: {TIMESTAMP_HEADER} is {age:.0f} s old, beyond the {window_s} s "
            "window; sign the call again with the current time"
        )
    if -age > window_s:
        raise SignatureError(
            f"timestamp in the future: {TIMESTAMP_HEADER} is {-age:.0f} s ahead, beyond the "
            f"{window_s} s window; check the sender's clock"
        )


def _hex_digest(signature: str) -> str:
    hex_part = signature.removeprefix(PREFIX)
    if hex_part == signature or _HEX_DIGEST.fullmatch(hex_part) is None:
        raise SignatureError(
            f"malformed {SIGNATURE_HEADER}: expected sha256= and 64 hexadecimal digits"
        )
    return hex_part.lower()
