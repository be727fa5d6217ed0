"""API keys of machine clients: ``txg_<key id>_<secret>``, shown once, stored as a hash.

The key id (16 hex characters) is public: it is stored in clear, finds the key's row and
names the key in logs and audit events. The secret (32 random bytes from :mod:`secrets`) is
never stored; only its SHA-256 is. A fast hash is right here and wrong for passwords: a
password is guessable, so its hash must make each guess expensive (argon2), but a 256-bit
random secret cannot be guessed at any hashing speed, so one SHA-256 protects it fully and
costs next to nothing on every request of the scoring hot path.

>>> issued = generate()
>>> parsed = parse(issued.raw)
>>> parsed.key_id == issued.key_id, secret_matches(parsed.secret, issued.secret_hash)
(True, True)
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from txguard.security.errors import AuthenticationError

__all__ = ["PREFIX", "IssuedKey", "ParsedKey", "generate", "hash_secret", "parse", "secret_matches"]

PREFIX = "txg_"
KEY_ID_BYTES = 8
SECRET_BYTES = 32
_SHAPE = re.compile(r"txg_(?P<key_id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})")
_MALFORMED = f"not a txguard API key: expected {PREFIX}<16 hex characters>_<43 characters>"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``raw`` is shown to its owner once; only ``key_id`` and the hash are kept."""

    key_id: str
    raw: str = field(repr=False)
    secret_hash: str = field(repr=False)


@dataclass(frozen=True)
class ParsedKey:
    """A presented key split into its public id and its secret."""

    key_id: str
    secret: str = field(repr=False)


def generate() -> IssuedKey:
    """A new random key."""
    key_id = secrets.token_hex(KEY_ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return IssuedKey(key_id, f"{PREFIX}{key_id}_{secret}", hash_secret(secret))


def parse(raw: str) -> ParsedKey:
    """Split a presented key; anything not shaped like one is refused saying what is expected."""
    match = _SHAPE.fullmatch(raw.strip())
    if match is None:
        raise AuthenticationError("malformed API key", _MALFORMED)
    return ParsedKey(match["key_id"], match["secret"])


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret, in hex, as stored."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
