"""Redis key names of the bus: the ``namespace`` a ``redis://`` bus URL may carry.

Two deployments sharing one Redis would otherwise read each other's streams (every stream
is ``vigil:<topic>``). ``redis://host:6379/0?namespace=site-a`` puts this deployment's
streams under ``vigil:site-a:<topic>`` and its consumer groups under ``site-a:<group>``.
The namespace travels inside the bus URL on purpose: every process (hub, camera workers,
tools) opens the bus from that one URL, so none can miss it. No namespace: today's names.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

NAMESPACE_PARAM = "namespace"
NAMESPACE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""What a namespace may be (as ``cluster.name``): no ``:``, so it cannot fake a level."""


def split_namespace(url: str) -> tuple[str, str]:
    """``(url without the namespace parameter, namespace or "")``; ``ValueError`` for an
    invalid or repeated namespace. Redis's own URL parser refuses unknown parameters, so the
    namespace must be taken out before the URL reaches it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = [value for key, value in query if key == NAMESPACE_PARAM]
    if not found:
        return url, ""
    if len(found) > 1 or not NAMESPACE.match(found[0]):
        raise ValueError(f"bus: namespace must be one value of 1-64 letters, digits, '_', "
                         f"'.' or '-' (got {found!r})")
    rest = urlencode([(key, value) for key, value in query if key != NAMESPACE_PARAM])
    return urlunsplit(parts._replace(query=rest)), found[0]
