"""Who is acting: the identity a service is told about, whatever surface the request came through."""

from __future__ import annotations

from dataclasses import dataclass

# operator: a person at the CLI of the server; customer: the person themself, on their preference page
PRINCIPAL_KINDS = ("api_key", "operator", "customer")
SURFACES = ("api", "cli", "console", "web")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated actor: its name, what kind of credential it used, its scopes, and the surface it came in by."""

    name: str
    kind: str
    scopes: frozenset[str]
    surface: str

    def __post_init__(self) -> None:
        if self.kind not in PRINCIPAL_KINDS:
            raise ValueError(f"principal kind must be one of {PRINCIPAL_KINDS}, not {self.kind!r}")
        if self.surface not in SURFACES:
            raise ValueError(f"surface must be one of {SURFACES}, not {self.surface!r}")

    def may(self, scope: str) -> bool:
        """Whether this principal holds `scope`."""
        return scope in self.scopes
