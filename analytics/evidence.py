"""Evidence pictures: the JPEGs an operator looks at before acting on an alert.

This is the analytics stage's only file I/O, kept apart from the pure decision parts
(consensus, scene rules) so those stay testable without a disk. Layout under the evidence
root (the console serves files from there, so references are *relative* to it)::

    <camera_id>/<yyyymmdd>/<sighting_id>_scene.jpg   whole frame, vehicle and plate boxed
    <camera_id>/<yyyymmdd>/<sighting_id>_plate.jpg   the plate crop
    <camera_id>/<yyyymmdd>/<event_id>_scene.jpg      scene events: zone/line and boxes drawn

The day is the event's first time in Beijing time (``utc_offset``): operators search by
their own calendar day, and a pass's early and final sightings land in the same folder.
Files are written to a temporary name and renamed, so the console never serves half a
JPEG; the final sighting rewrites the early one's files when a better view came later.

A failed write (disk full, permissions) is logged with the camera and counted in
``failures``; the sighting or event still goes out with its clip times and no picture,
because an alert without a snapshot is worth more than no alert.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image
from analytics.text import Pen, draw_text
from core.config.models import Line, Zone
from core.errors import FontError
from core.messages import Box, Evidence, Frame, SceneEvent, Sighting

log = logging.getLogger(__name__)

VEHICLE_COLOUR = (0, 200, 0)
PLATE_COLOUR = (0, 0, 255)
ZONE_COLOUR = (0, 220, 255)
HIT_COLOUR = (0, 0, 255)


@dataclass(frozen=True, slots=True)
class EvidenceOptions:
    """``pre``/``post``: seconds of video wanted before the first and after the last sight
    (the ingest packet ring cuts the clip); ``utc_offset`` hours for the day folder."""

    pre: float = 5.0
    post: float = 5.0
    jpeg_quality: int = 85
    utc_offset: float = 8.0
    plate_margin: float = 0.15


@dataclass(frozen=True, slots=True)
class Overlay:
    """What to draw on a scene-event snapshot: the camera's zones and lines (normalised),
    the one the event is about (``hit``) and the boxes of the objects involved."""

    zones: Sequence[Zone] = ()
    lines: Sequence[Line] = ()
    hit: str | None = None
    boxes: Sequence[Box] = field(default_factory=tuple)


def clip_window(first: float, last: float, options: EvidenceOptions) -> tuple[float, float]:
    """``(first − pre, last + post)``: the clip an operator needs around a pass or event."""
    return first - options.pre, last + options.post


def day_folder(at: float, utc_offset: float) -> str:
    """``yyyymmdd`` of POSIX time ``at`` at ``utc_offset`` hours."""
    zone = dt.timezone(dt.timedelta(hours=utc_offset))
    return dt.datetime.fromtimestamp(at, zone).strftime("%Y%m%d")


def _safe(part: str) -> str:
    """A path component from an id: refused if it could climb out of the evidence root."""
    if not part or part in {".", ".."} or "/" in part or "\\" in part or "\0" in part:
        raise ValueError(f"{part!r} cannot name an evidence file")
    return part


def _pixels(box: Box) -> tuple[tuple[int, int], tuple[int, int]]:
    return (math.floor(box[0]), math.floor(box[1])), (math.ceil(box[2]), math.ceil(box[3]))


def _to_px(point: tuple[float, float], size: tuple[int, int]) -> tuple[int, int]:
    return round(point[0] * size[0]), round(point[1] * size[1])


def crop(image: UInt8Image, box: Box, margin: float) -> UInt8Image:
    """``box`` widened by ``margin`` of its size on every side, clamped to the image."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, math.floor(x1 - dx)), max(0, math.floor(y1 - dy))
    right, bottom = min(width, math.ceil(x2 + dx)), min(height, math.ceil(y2 + dy))
    return image[top:bottom, left:right]


def draw_sighting(image: UInt8Image, plate_box: Box, vehicle_box: Box | None,
                  label: str) -> UInt8Image:
    """A copy of ``image`` with the vehicle (green) and plate (red) boxed and labelled."""
    out = image.copy()
    thick = max(2, image.shape[1] // 400)
    if vehicle_box is not None:
        cv2.rectangle(out, *_pixels(vehicle_box), VEHICLE_COLOUR, thick)
    top_left, bottom_right = _pixels(plate_box)
    cv2.rectangle(out, top_left, bottom_right, PLATE_COLOUR, thick)
    size = max(24, image.shape[0] // 24)
    anchor = (top_left[0], max(0, top_left[1] - size - 8))
    try:
        draw_text(out, label, anchor, Pen(size, PLATE_COLOUR, outline=(255, 255, 255)))
    except FontError as exc:  # boxes still tell the story; the label is in the alert itself
        _font_missing(str(exc))
    return out


@functools.cache
def _font_missing(why: str) -> None:
    """Log a missing font once per process, not once per snapshot."""
    log.error("evidence pictures are drawn without their plate labels: %s", why)


def draw_overlay(image: UInt8Image, overlay: Overlay) -> UInt8Image:
    """A copy of ``image`` with zones, lines (the hit one in red, thicker) and boxes."""
    out = image.copy()
    size = (image.shape[1], image.shape[0])
    thick = max(2, image.shape[1] // 400)
    for zone in overlay.zones:
        hit = zone.id == overlay.hit
        points = np.array([_to_px(p, size) for p in zone.polygon], dtype=np.int32)
        cv2.polylines(out, [points], True, HIT_COLOUR if hit else ZONE_COLOUR,
                      thick * 2 if hit else thick)
    for line in overlay.lines:
        hit = line.id == overlay.hit
        cv2.arrowedLine(out, _to_px(line.a, size), _to_px(line.b, size),
                        HIT_COLOUR if hit else ZONE_COLOUR, thick * 2 if hit else thick,
                        tipLength=0.03)
    for box in overlay.boxes:
        cv2.rectangle(out, *_pixels(box), HIT_COLOUR, thick)
    return out


class EvidenceWriter:
    """Writes evidence JPEGs under ``root``; one writer may serve every camera of a worker."""

    def __init__(self, root: Path, options: EvidenceOptions | None = None) -> None:
        self.root = Path(root)
        self.options = options or EvidenceOptions()
        self.written = 0
        self.failures = 0

    def sighting(self, frame: Frame, sighting: Sighting, plate_box: Box,
                 vehicle_box: Box | None = None) -> Evidence:
        """Snapshot and plate crop of ``frame`` for ``sighting``; its evidence references."""
        folder = self._folder(sighting.camera_id, sighting.first_seen)
        # the final emission gets its own files: an alert raised on the early one keeps
        # pointing at the picture its box was measured on
        name = _safe(sighting.sighting_id) + ("_final" if sighting.final else "")
        scene = draw_sighting(frame.image, plate_box, vehicle_box, sighting.plate)
        plate = crop(frame.image, plate_box, self.options.plate_margin)
        clip_from, clip_to = clip_window(sighting.first_seen, sighting.last_seen, self.options)
        return Evidence(snapshot=self._write(f"{folder}/{name}_scene.jpg", scene),
                        plate_crop=self._write(f"{folder}/{name}_plate.jpg", plate),
                        clip_from=clip_from, clip_to=clip_to, frame_seq=frame.seq,
                        box=plate_box)

    def event(self, frame: Frame, event: SceneEvent, overlay: Overlay) -> Evidence:
        """Snapshot of ``frame`` with ``overlay`` drawn for ``event``; its references, the
        clip widened by ``pre``/``post`` around the event's own clip."""
        folder = self._folder(event.camera_id, event.at)
        name = _safe(event.event_id)
        picture = draw_overlay(frame.image, overlay)
        first = event.evidence.clip_from if event.evidence.clip_from is not None else event.at
        last = event.evidence.clip_to if event.evidence.clip_to is not None else event.at
        clip_from, clip_to = clip_window(first, last, self.options)
        return Evidence(snapshot=self._write(f"{folder}/{name}_scene.jpg", picture),
                        clip_from=clip_from, clip_to=clip_to, frame_seq=frame.seq,
                        box=event.evidence.box)

    def _folder(self, camera_id: str, at: float) -> str:
        return f"{_safe(camera_id)}/{day_folder(at, self.options.utc_offset)}"

    def _write(self, relative: str, image: UInt8Image) -> str | None:
        """Encode and atomically write ``image``; the relative path, or ``None`` on failure
        (logged and counted: the caller sends its message without the picture)."""
        if image.size == 0:
            log.warning("evidence %s: empty picture, not written", relative)
            return None
        params = [cv2.IMWRITE_JPEG_QUALITY, self.options.jpeg_quality]
        ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image), params)
        target = self.root / relative
        try:
            if not ok:
                raise OSError("JPEG encoding failed")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(encoded.tobytes())
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError as exc:
            self.failures += 1
            log.error("evidence %s not written under %s: %s", relative, self.root, exc)
            return None
        self.written += 1
        return relative
