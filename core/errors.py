"""One error hierarchy (docs/architecture.md, rule 9).

``RetryableError`` means "try again later" (a camera that is down, Redis restarting, a
dispatch target answering 503); ``FatalError`` means retrying cannot help (bad config, a
missing model file, a credential the server refuses). :func:`core.retry.retry` retries only
the first kind.
"""

from __future__ import annotations


class VigilError(Exception):
    """Root of every error Vigil raises on purpose."""


class RetryableError(VigilError):
    """A transient failure: the same call may succeed later."""


class FatalError(VigilError):
    """A permanent failure: retrying will not help; a person must fix something."""


class ConfigError(FatalError):
    """Configuration is invalid. ``problems`` holds every ``file:line: path: message`` line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) if self.problems else "invalid configuration")


class SourceError(RetryableError):
    """A camera source could not be opened or stopped delivering."""


class SourceTimeout(SourceError):
    """A camera source stayed silent past its read or open timeout."""


class BusError(RetryableError):
    """The message bus is unreachable or refused an operation."""


class CodecError(FatalError):
    """A message could not be encoded or decoded (unknown type, wrong shape)."""


class TransitionError(FatalError):
    """An illegal lifecycle move: the message says "expected X, got Y"."""

    def __init__(self, entity: str, expected: str, got: str) -> None:
        self.entity, self.expected, self.got = entity, expected, got
        super().__init__(f"{entity}: expected {expected}, got {got}")


class ModelError(FatalError):
    """A model file is missing or unusable; the message names the file and the fix."""


class RequestError(FatalError):
    """A request (from the console or an import) is invalid; ``problems`` are
    ``(field, why)`` pairs the API returns as a 422 with field paths."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{f}: {why}" for f, why in self.problems) or "invalid request")


class AuthenticationError(FatalError):
    """A signature or credential did not verify (HTTP 401)."""


class FontError(FatalError):
    """No font that draws Chinese was found; the message names the Debian package to install
    and the variable that points Vigil at a font file."""
