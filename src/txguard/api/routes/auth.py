"""Signing in (OAuth2 password flow), refreshing and revoking tokens, and "who am I".

Every refusal of a login, refresh or logout says the same thing whatever was wrong, so the
API cannot be used to find out which usernames exist; the precise reason goes to the log.
"""

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool

from txguard.api.access import SIGNED_IN, allowed
from txguard.api.auth_schemas import PrincipalOut, RefreshIn, TokenOut
from txguard.api.authorization import refused
from txguard.api.errors import ApiError, documented
from txguard.api.routing import guarded_router
from txguard.domain.principals import Principal
from txguard.security.errors import AuthenticationError, TooManyAttempts
from txguard.security.identity import IdentityService, TokenPair

router = guarded_router(tags=["auth"])
CHALLENGE = {"WWW-Authenticate": "Bearer"}
WRONG_LOGIN = "wrong username or password"


@router.post("/auth/token", response_model=TokenOut, summary="Sign in with a username and password",
             responses=documented(401, 422, 429), **allowed())  # fmt: skip
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`; answers an access token
    and a refresh token. Repeated failures lock the account and the address for a while (429)."""
    address = request.client.host if request.client else "unknown"
    try:
        pair = await run_in_threadpool(
            _identity(request).login, form.username, form.password, address
        )
    except AuthenticationError as exc:
        raise refused(exc, message=WRONG_LOGIN, challenge=CHALLENGE) from None
    except TooManyAttempts as exc:
        retry = str(exc.retry_after_s)
        raise ApiError(429, str(exc), headers={"Retry-After": retry}) from None
    return _token_out(pair)


@router.post("/auth/refresh", response_model=TokenOut, summary="Exchange a refresh token for new tokens",
             responses=documented(401, 422), **allowed())  # fmt: skip
async def refresh(request: Request, body: RefreshIn) -> TokenOut:
    """The refresh token is used up: keep the new one. Presenting a used one again revokes
    every refresh token of the user, as it means someone else holds a copy."""
    try:
        pair = await run_in_threadpool(_identity(request).refresh, body.refresh_token)
    except AuthenticationError as exc:
        raise refused(exc, challenge=CHALLENGE) from None
    return _token_out(pair)


@router.post("/auth/logout", status_code=204, response_class=Response, summary="Revoke a refresh token",
             responses=documented(401, 422), **allowed())  # fmt: skip
async def logout(request: Request, body: RefreshIn) -> Response:
    """The refresh token can no longer be used; the access token expires on its own."""
    try:
        await run_in_threadpool(_identity(request).logout, body.refresh_token)
    except AuthenticationError as exc:
        raise refused(exc, challenge=CHALLENGE) from None
    return Response(status_code=204)


@router.get("/auth/me", response_model=PrincipalOut, summary="Who the credentials belong to",
            **allowed(*SIGNED_IN))  # fmt: skip
async def me(request: Request) -> PrincipalOut:
    """The caller as the API sees them: a user or an API key, and the role in force."""
    principal: Principal = request.state.principal
    return PrincipalOut(kind=principal.kind, name=principal.name, role=principal.role)


def _identity(request: Request) -> IdentityService:
    identity: IdentityService = request.app.state.context.identity
    return identity


def _token_out(pair: TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
