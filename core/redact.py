"""Credential hygiene: camera URLs carry passwords; logs and the API must never show them.

Two places hold them: the userinfo (``rtsp://admin:secret@host``) and, for many NVRs,
gateways and HLS/HTTP sources, the query string (``?token=…``, ``&password=…``,
``&sig=…``). Both are masked; the rest of the URL stays readable for troubleshooting.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMS = frozenset({
    "token", "access_token", "accesstoken", "auth", "authorization", "auth_token",
    "password", "passwd", "pwd", "pass", "passphrase", "key", "apikey", "api_key",
    "secret", "client_secret", "sig", "signature", "credential", "credentials",
    "session", "sessionid", "jwt", "ticket", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token",
})
"""Query parameter names whose value is masked (compared in lower case)."""
_SECRET_SUFFIXES = ("token", "password", "passwd", "secret", "signature", "apikey", "_key",
                    "-key", "_sig")
_PAIR = re.compile(r"([^&=;]*)(=?)([^&;]*)")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a credential."""
    key = unquote(name).strip().lower()
    return key in SECRET_PARAMS or key.endswith(_SECRET_SUFFIXES)


def redact_query(query: str) -> str:
    """``a=1&token=abc&pwd=x`` → ``a=1&token=***&pwd=***``; separators kept as they were."""
    def mask(match: re.Match[str]) -> str:
        name, equals, value = match.groups()
        if equals and value and is_secret_param(name):
            return f"{name}={MASK}"
        return match.group(0)
    return _PAIR.sub(mask, query)


def redact_url(url: str) -> str:
    """``rtsp://admin:secret@10.0.0.5/ch1?token=abc`` → ``rtsp://***@10.0.0.5/ch1?token=***``;
    paths and other query parameters unchanged."""
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if netloc and "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    if query:
        query = redact_query(query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
