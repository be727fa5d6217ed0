"""Password hashing with argon2id, the memory-hard hash RFC 9106 recommends for passwords.

A password is chosen by a person, so it is guessable: the hash must be slow and need much
memory, so that each guess costs an attacker holding the table real time and hardware.
The default parameters are argon2-cffi's (RFC 9106's low-memory profile: 64 MiB, 3 passes);
tests pass a cheaper :class:`PasswordHasher`, which is still argon2id.

>>> hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
>>> stored = hash_password("correct horse battery", hasher)
>>> verify_password(stored, "correct horse battery"), verify_password(stored, "wrong guess!!")
(True, False)
"""

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from txguard.domain.identity import IdentityInputError

__all__ = [
    "DEFAULT_HASHER",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PasswordHasher",
    "check_password",
    "hash_password",
    "needs_rehash",
    "spend_verify_time",
    "verify_password",
]

MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing cost grows with length; nobody types more
DEFAULT_HASHER = PasswordHasher()


def check_password(password: str) -> str:
    """``password`` if it may be set, else an error saying why (length is what matters most)."""
    if len(password) < MIN_LENGTH:
        raise IdentityInputError(
            "password", f"must be at least {MIN_LENGTH} characters, got {len(password)}"
        )
    if len(password) > MAX_LENGTH:
        raise IdentityInputError("password", f"must be at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The argon2id hash of an acceptable password, with its own random salt."""
    return hasher.hash(check_password(password))


def verify_password(
    stored_hash: str, password: str, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """Whether ``password`` matches; a mismatch or an unreadable hash is False, never an error."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Whether the hash was made with other parameters than ``hasher``'s (rehash at login)."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def spend_verify_time(password: str, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Verify against a hash of nobody's password, so a login for an unknown user costs what a
    real one does and its timing does not reveal that the username does not exist."""
    verify_password(_dummy_hash(hasher), password[:MAX_LENGTH], hasher)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))
