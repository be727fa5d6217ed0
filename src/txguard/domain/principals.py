"""Who is calling: a person signed in with a token, or a machine client with an API key."""

from dataclasses import dataclass
from typing import Literal

from txguard.domain.enums import Role

PrincipalKind = Literal["user", "key"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller; ``actor`` is how changes and audit events name them."""

    kind: PrincipalKind
    name: str
    role: Role

    @property
    def actor(self) -> str:
        """``user:alice`` or ``key:<key id>``: stable, and never a secret."""
        return f"{self.kind}:{self.name}"
