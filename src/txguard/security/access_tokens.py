"""Signed access and refresh tokens (JWT, HS256 only).

Every token names its signing key in the ``kid`` header: a short fingerprint of the key, not
the key. New tokens are signed with the current secret; tokens signed with one of the
previous secrets still verify, so the secret can be rotated without logging everyone out,
and a token whose ``kid`` is no known key is refused before any signature is computed.

Verification trusts nothing in the token before its signature is checked: the algorithm is
fixed to HS256 whatever the header says (``none``, RS256 with the secret as a "public key",
or HS512 are refused), and issuer, audience, type and every claim txguard issues are
required. Times are checked against the service's own clock, with a few seconds' leeway for
clocks of different machines, so the whole service agrees on one "now".
"""

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import jwt
from pydantic import SecretStr

from txguard.domain.errors import ConfigurationError
from txguard.security.errors import AuthenticationError

__all__ = ["ALGORITHM", "Claims", "IssuedToken", "TokenCodec", "TokenSettings", "key_id"]

ALGORITHM = "HS256"
LEEWAY_S = 5
MIN_SECRET_BYTES = 32
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "typ", "jti"]
TokenType = Literal["access", "refresh"]


class TokenSettings(Protocol):
    """The settings tokens are made from (``txguard.settings.Settings`` has them all)."""

    @property
    def jwt_secret(self) -> SecretStr: ...
    @property
    def jwt_previous_secrets(self) -> Sequence[SecretStr]: ...
    @property
    def jwt_issuer(self) -> str: ...
    @property
    def jwt_audience(self) -> str: ...
    @property
    def access_token_ttl_s(self) -> int: ...
    @property
    def refresh_token_ttl_s(self) -> int: ...


@dataclass(frozen=True)
class IssuedToken:
    """A signed token, its id and when it expires (seconds since the epoch)."""

    token: str = field(repr=False)
    jti: str
    expires_at: int


@dataclass(frozen=True)
class Claims:
    """What a verified token says."""

    subject: str
    typ: str
    jti: str
    issued_at: int
    expires_at: int
    role: str | None = None


def key_id(secret: str) -> str:
    """The ``kid`` of a signing secret: 12 hex characters of a hash, naming it without revealing it."""
    return hashlib.sha256(b"txguard-jwt-kid:" + secret.encode("utf-8")).hexdigest()[:12]


class TokenCodec:
    """Issues tokens signed with the current secret; verifies those of any known secret."""

    def __init__(
        self,
        settings: TokenSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        current = _secret(settings.jwt_secret, "TXGUARD_JWT_SECRET")
        previous = [
            _secret(s, f"TXGUARD_JWT_PREVIOUS_SECRETS[{i}]")
            for i, s in enumerate(settings.jwt_previous_secrets)
        ]
        self._secret, self._kid = current, key_id(current)
        self._keys = {key_id(s): s for s in [*previous, current]}
        self._issuer, self._audience = settings.jwt_issuer, settings.jwt_audience
        self._ttl: dict[TokenType, int] = {
            "access": settings.access_token_ttl_s,
            "refresh": settings.refresh_token_ttl_s,
        }
        self._clock = clock

    def ttl_s(self, typ: TokenType) -> int:
        """How long tokens of type ``typ`` live."""
        return self._ttl[typ]

    def issue(self, typ: TokenType, subject: str, **claims: str) -> IssuedToken:
        """A new token of type ``typ`` for ``subject``, with extra string claims (``role``)."""
        now = int(self._clock())
        jti = secrets.token_urlsafe(16)
        payload: dict[str, Any] = {
            **claims,
            "sub": subject,
            "typ": typ,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl[typ],
            "jti": jti,
        }
        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})
        return IssuedToken(token, jti, payload["exp"])

    def verify(self, token: str, typ: TokenType) -> Claims:
        """The claims of a valid token of type ``typ``; anything else is an authentication error."""
        key = self._key_for(token)
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"{type(exc).__name__}: {exc}") from None
        self._check_times(payload)
        if payload["typ"] != typ:
            raise AuthenticationError(f"a {payload['typ']!r} token where {typ!r} was expected")
        return _claims(payload)

    def _key_for(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"malformed token: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise AuthenticationError(f"algorithm {header.get('alg')!r} refused")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise AuthenticationError(f"unknown signing key id {header.get('kid')!r}")
        return key

    def _check_times(self, payload: Mapping[str, Any]) -> None:
        now = self._clock()
        for name in ("iat", "nbf", "exp"):
            if not isinstance(payload[name], int) or isinstance(payload[name], bool):
                raise AuthenticationError(f"claim {name} is not an integer time")
        if payload["exp"] <= now - LEEWAY_S:
            raise AuthenticationError("token expired")
        if payload["nbf"] > now + LEEWAY_S or payload["iat"] > now + LEEWAY_S:
            raise AuthenticationError("token not valid yet (issued in the future)")


def _secret(value: SecretStr, name: str) -> str:
    secret = value.get_secret_value()
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"{name} must be at least {MIN_SECRET_BYTES} bytes long")
    return secret


def _claims(payload: Mapping[str, Any]) -> Claims:
    for name in ("sub", "typ", "jti"):
        if not isinstance(payload[name], str):
            raise AuthenticationError(f"claim {name} is not text")
    role = payload.get("role")
    return Claims(
        subject=payload["sub"],
        typ=payload["typ"],
        jti=payload["jti"],
        issued_at=payload["iat"],
        expires_at=payload["exp"],
        role=role if isinstance(role, str) else None,
    )
