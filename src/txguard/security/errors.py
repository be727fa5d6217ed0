"""Errors of signing in and of managing users and keys.

An authentication failure carries two texts: ``reason`` says exactly what was wrong (an
expired token, an unknown key id, a wrong password) and goes to the logs; the message the
caller sees is generic, so a client cannot probe which usernames or key ids exist.

    TxguardError
    ├── InputError
    │   └── IdentityInputError   a username, password, role or expiry refused (field named)
    ├── AuthenticationError      no valid credentials: HTTP 401, the reason kept for the logs
    └── TooManyAttempts          login locked for ``retry_after_s`` seconds: HTTP 429
"""

from txguard.domain.errors import TxguardError
from txguard.domain.identity import IdentityInputError

__all__ = ["GENERIC_MESSAGE", "AuthenticationError", "IdentityInputError", "TooManyAttempts"]

GENERIC_MESSAGE = "invalid or expired credentials"


class AuthenticationError(TxguardError):
    """Credentials missing, malformed, wrong, expired or revoked."""

    def __init__(self, reason: str, message: str = GENERIC_MESSAGE) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class TooManyAttempts(TxguardError):
    """Too many failed logins for an account or from an address; even a right password waits."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s
