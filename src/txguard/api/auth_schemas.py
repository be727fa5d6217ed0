"""The shapes of signing in as the API shows them (the OAuth2 token response and its kin)."""

from pydantic import BaseModel, ConfigDict, Field

from txguard.domain.enums import Role
from txguard.domain.principals import PrincipalKind


class TokenOut(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: str = Field(description="Always `bearer`.")
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str = Field(
        description="Exchange at /api/v1/auth/refresh for a new pair; usable once."
    )


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"refresh_token": "eyJhbGciOiJIUzI1NiIs..."}]},
    )

    refresh_token: str = Field(min_length=1, max_length=4096)


class PrincipalOut(BaseModel):
    kind: PrincipalKind = Field(description="`user` (a token) or `key` (an API key).")
    name: str = Field(description="The username, or the API key's id.")
    role: Role
