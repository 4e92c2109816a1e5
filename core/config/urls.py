"""Camera source addresses: which kind they are, and the URL ingest actually opens.

Camera files may keep credentials out of the URL (``username:``/``password:``, usually as
``${VAR}``) so that the URL itself can be shown and diffed. :func:`effective_url` puts them
back (percent-encoded, so ``@`` or ``:`` in a password cannot break the URL); anything that
displays or logs a URL must pass it through :func:`display_url` / ``redact_url`` instead.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from core.config.models import Camera
from core.redact import redact_url

NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https")
"""Schemes that name a stream on a host; credentials are injected only into these."""
SOURCE_SCHEMES = (*NETWORK_SCHEMES, "file")
"""Every scheme a camera ``url``/``evidence_url`` may use (a bare path counts as ``file``)."""


def url_scheme(url: str) -> str:
    """Lower-case scheme, ``"file"`` for a plain path (``var/demo.mp4``, ``C:\\v\\a.mp4``)."""
    scheme = urlsplit(url).scheme.lower()
    if not scheme or len(scheme) == 1:  # one letter is a Windows drive, not a scheme
        return "file"
    return scheme


def is_network(url: str) -> bool:
    """True for a stream on a host (rtsp, rtmp, http...), false for files."""
    return url_scheme(url) in NETWORK_SCHEMES


def has_userinfo(url: str) -> bool:
    """True when the URL already carries ``user[:password]@``."""
    return "@" in urlsplit(url).netloc


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """Insert ``username[:password]@`` into a network URL that has none.

    Empty strings count as absent, so ``${CAM_USER:-}`` means "no credentials". Files and
    URLs that already carry credentials come back unchanged (the checks report the clash).
    """
    if not username or not is_network(url) or has_userinfo(url):
        return url
    parts = urlsplit(url)
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path,
                       parts.query, parts.fragment))


def effective_url(camera: Camera) -> str:
    """The analytics-stream URL to open, credentials included. Never log it."""
    return with_credentials(camera.url, camera.username, camera.password)


def effective_evidence_url(camera: Camera) -> str | None:
    """The evidence (main) stream URL to open, credentials included, or ``None``."""
    if camera.evidence_url is None:
        return None
    return with_credentials(camera.evidence_url, camera.username, camera.password)


def display_url(camera: Camera) -> str:
    """The analytics-stream URL safe for logs and the API: ``rtsp://***@host/path``."""
    return redact_url(effective_url(camera))
