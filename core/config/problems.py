"""One configuration problem, formatted the way editors and CI logs understand.

Every stage of loading (YAML syntax, ``${VAR}`` expansion, pydantic validation, cross-checks)
produces :class:`Problem` values instead of raising on the first one, so ``vigil
validate-config`` can print all of them at once as ``file:line: key.path: message`` — the
shape that terminals, editors and CI annotations turn into clickable locations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KeyPath = tuple[str | int, ...]
"""Where a value sits in a YAML document: mapping keys and list indices from the root."""


def dotted(path: Sequence[str | int]) -> str:
    """``("cameras", 0, "location", "lat")`` → ``"cameras.0.location.lat"``."""
    return ".".join(str(part) for part in path)


@dataclass(frozen=True, slots=True)
class Problem:
    """A located message. ``line`` is 1-based; ``None`` when the whole file is at fault
    (unreadable, missing directory), ``path`` empty when no key is to blame (YAML syntax)."""

    file: str
    line: int | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.path:
            return f"{where}: {dotted(self.path)}: {self.message}"
        return f"{where}: {self.message}"
