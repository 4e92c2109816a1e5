"""Credential hygiene: camera URLs carry passwords; logs and the API must never show them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """``rtsp://admin:secret@10.0.0.5/ch1`` → ``rtsp://***@10.0.0.5/ch1``; paths unchanged."""
    parts = urlsplit(url)
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
