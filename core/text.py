"""Text that can be stored and sent: no lone UTF-16 surrogates.

JSON may spell ``"\\ud800"``, and Python's decoder turns it into a one-character ``str``
that no UTF-8 encoder accepts: the database driver, a log handler or the JSON reply then
fails on it, far from the request that brought it (issue 11, item 7: a 500 from
``/api/login`` without logging in). The edges (request models, the dispatch callback)
refuse such text with a 4xx here, before it travels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: object) -> bool:
    """Whether ``value`` (a str, or lists/tuples/mappings of them) holds a surrogate code
    point, i.e. text that is not valid Unicode."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, list | tuple | set | frozenset):
        return any(lone_surrogate(item) for item in value)
    if isinstance(value, Mapping):
        return any(lone_surrogate(k) or lone_surrogate(v) for k, v in value.items())
    return False


def require_unicode(value: object, what: str = "text") -> None:
    """Raise ``ValueError`` (a 422 at a pydantic edge) if ``value`` holds a surrogate."""
    if lone_surrogate(value):
        raise ValueError(f"{what} is not valid Unicode (a lone surrogate such as \\ud800)")
