"""Serving files named by data (evidence refs, camera ids) without letting the data choose
a path outside its directory."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import HTTPException, Request, Response, status

log = logging.getLogger(__name__)


def contained(root: Path, ref: str) -> Path | None:
    """``root/ref`` if ``ref`` is a relative path that stays inside ``root`` (after
    resolving ``..`` and symlinks) and names an existing file; ``None`` otherwise."""
    if not ref or "\x00" in ref or "\\" in ref:
        return None
    rel = PurePosixPath(ref)
    if rel.is_absolute() or ".." in rel.parts:
        return None
    try:
        base = root.resolve()
        path = (base / rel).resolve()
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def media_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def serve_file(path: Path | None, what: str, cache_control: str) -> Response:
    """The whole file, read at once (live pictures are replaced while being served), or 404
    naming ``what``."""
    if path is not None:
        try:
            return Response(path.read_bytes(), media_type=media_type(path),
                            headers={"Cache-Control": cache_control})
        except OSError as exc:  # replaced or removed between the check and the read
            log.debug("%s: %s; answering 404", path, exc)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it grows past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
