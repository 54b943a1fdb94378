"""Domain errors. One place (the HTTP edge or the CLI) maps them to what a user sees."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one item; `index` is None for request-level fields."""

    field: str
    code: str
    message: str
    index: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "code": self.code, "message": self.message}


class SeamlineError(Exception):
    """Base of every error a user may be shown."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class InvalidInput(SeamlineError):
    """The input was rejected as a whole; nothing was changed."""

    errors: list[FieldError] = field(default_factory=list)
    message: str = "invalid input"
    code = "invalid_input"

    def __post_init__(self) -> None:
        SeamlineError.__init__(self, self.message)


@dataclass
class TooLarge(SeamlineError):
    """A size or count limit was exceeded; nothing was changed."""

    errors: list[FieldError] = field(default_factory=list)
    message: str = "payload too large"
    code = "too_large"

    def __post_init__(self) -> None:
        SeamlineError.__init__(self, self.message)


class NotFound(SeamlineError):
    code = "not_found"


class Conflict(SeamlineError):
    code = "conflict"


class Unauthorized(SeamlineError):
    code = "unauthorized"


class Forbidden(SeamlineError):
    code = "forbidden"


class Gone(SeamlineError):
    """What was asked for existed and was removed for good (an erased profile)."""

    code = "gone"
