"""The evidence folder as files: what is there, whose it is, and deleting inside it only.

``core`` may not import ``analytics``, so the naming rules of analytics/evidence.py (pictures)
and vigil/analysis.py (clips) are restated here; tests/core/test_retention.py writes real
files with :class:`analytics.evidence.EvidenceWriter` and checks they parse, so the two
cannot drift apart silently::

    <camera_id>/<yyyymmdd>/<id>_scene.jpg          <id>_final_scene.jpg
    <camera_id>/<yyyymmdd>/<id>_plate.jpg          <id>_final_plate.jpg
    <camera_id>/<yyyymmdd>/<id>_clip.mp4           (or <camera_id>/clips/<id>_clip.mp4)

``<id>`` is the sighting or scene-event id. A name starting with ``.`` or ending in
``.part`` is a write in progress (pictures and clips are written under such a name and
renamed); anything else is not ours and is never deleted, only counted.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

CLIP_SUFFIX = "_clip.mp4"
SUFFIXES = ("_final_scene.jpg", "_final_plate.jpg", "_scene.jpg", "_plate.jpg", CLIP_SUFFIX)
"""Longest first, so ``x_final_scene.jpg`` belongs to ``x``, not to ``x_final``."""


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One regular file under the evidence root."""

    path: str
    """Relative to the root, with ``/`` (as alerts and sightings refer to it)."""
    size: int
    mtime: float
    key: str | None
    """The sighting or event id; ``None`` for a write in progress or a file not ours."""
    partial: bool = False
    """A write in progress (or one a crash left behind)."""

    @property
    def clip(self) -> bool:
        return self.path.endswith(CLIP_SUFFIX)


def key_of(name: str) -> tuple[str | None, bool]:
    """``(id, partial)`` for a file name; ``(None, False)`` for a name that is not ours."""
    if name.startswith(".") or name.endswith(".part"):
        return None, True
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], False
    return None, False


def scan(root: Path) -> list[EvidenceFile]:
    """Every regular file under ``root`` (symbolic links are neither followed nor listed);
    an absent root is empty. Files that vanish during the walk are skipped."""
    out: list[EvidenceFile] = []
    for folder, _dirs, names in os.walk(root):
        base = Path(folder)
        for name in names:
            try:
                st = (base / name).stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            key, partial = key_of(name)
            rel = (base / name).relative_to(root).as_posix()
            out.append(EvidenceFile(rel, st.st_size, st.st_mtime, key, partial))
    return out


def inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` if ``relative`` cannot climb out of ``root`` (a path read from the
    database is data, not trusted), else ``None``."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts or "\0" in relative:
        return None
    return root.joinpath(*parts)


def remove(root: Path, relative: str) -> int:
    """Delete one evidence file; the bytes freed (0 if it was already gone or refused).
    A failure (permissions, a read-only disk) is logged, not raised: the next round retries."""
    path = inside(root, relative)
    if path is None:
        log.warning("evidence path %r is outside %s; not deleted", relative, root)
        return 0
    try:
        size = path.stat(follow_symlinks=False).st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    except OSError as exc:
        log.warning("evidence %s not deleted: %s", path, exc)
        return 0
    return size


def prune_empty(root: Path, before: float) -> None:
    """Remove empty folders last changed before ``before`` (never ``root``). A recent one
    is left alone: a writer may have just created it for the file it is about to write."""
    for folder, _dirs, _names in os.walk(root, topdown=False):
        path = Path(folder)
        try:
            if path != root and path.stat().st_mtime < before:
                path.rmdir()  # refuses a folder that is not empty
        except OSError:
            continue
