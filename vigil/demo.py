"""The demo camera's video, generated on first run so the repository ships no media.

A road scene drawn by :mod:`vigil.synth.pipeline`: cars carrying rendered Chinese
plates cross in both directions, some of them on the demo watchlist
(``configs/watchlists/demo.csv``: 京A12345 stolen, 京AD12345 wanted), some not. In front of
them a person drawn by :mod:`vigil.synth.person` walks along the pavement from the
right and into a restricted area marked in yellow on the ground (:data:`DEMO_ZONE`, the
``no-entry`` zone of ``configs/cameras/demo.yaml``), which the demo camera's ``intrusion``
analytic reports. The file source loops it in real time, so a fresh ``make run`` shows a
streaming camera, sightings, watchlist and intrusion alerts within a minute without any
external server or camera.

The file name carries :data:`VERSION`: when the scene changes, bump it, so that a clip
cached by an older version is not replayed (``configs/cameras/demo.yaml`` names the file).

Everything the demo needs at start-up is here too (the clip for a camera that points into
:data:`DEMO_DIR`, the one-line warning when the model pack is missing), so ``vigil/run.py``
and ``vigil/roles.py`` only call it and hold no demo knowledge of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import cv2

from analytics.detector import MODEL_NAME
from analytics.pipeline_parts import needs_detector
from analytics.plates_geometry import UInt8Image
from core.config.models import Camera
from vigil.synth.person import Walker
from vigil.synth.pipeline import SynthCar, render_frame, write_clip

log = logging.getLogger(__name__)

DEMO_DIR = Path("var/demo")
"""Where the demo clip is generated; a camera whose video is here is the demo camera."""
VERSION = 3
SIZE = (960, 540)
FPS = 15
SECONDS = 16
BODY = (240, 172)
PLATE = (120, 38)
DEMO_ZONE = ((0.08, 0.94), (0.45, 0.94), (0.45, 1.0), (0.08, 1.0))
"""The restricted area (normalised x, y), on the pavement where the person's feet go."""
PERSON_HEIGHT = 180
PERSON_FOOT_Y = 528
PERSON_SPEED = -6.0


def demo_cars() -> tuple[SynthCar, ...]:
    """Four passes, one every four seconds, alternating lanes and directions."""
    width, height = SIZE
    frames = FPS * SECONDS
    speed = (width + BODY[0]) / (frames / 4 - 6)
    far, near = round(height * 0.27), round(height * 0.6)
    cars = [("京A·12345", "blue", far, 1), ("苏E·5K8Q2", "blue", near, -1),
            ("京A·D12345", "green", far, 1), ("沪B·88888", "blue", near, -1)]
    out = []
    for i, (text, color, top, direction) in enumerate(cars):
        lead = i * frames / 4 * speed  # each car enters one quarter of the loop later
        x0 = -BODY[0] - lead if direction > 0 else width + lead
        out.append(SynthCar(text, color, (round(x0), top), speed * direction, BODY, PLATE))
    return tuple(out)


def demo_walker() -> Walker:
    """The person: enters at the right edge at the start of the loop, walks left into
    :data:`DEMO_ZONE` about 6.5 s later and leaves the picture at about 12 s."""
    return Walker((SIZE[0] + 60, PERSON_FOOT_Y), PERSON_SPEED, PERSON_HEIGHT)


def _zone_marking(frame: UInt8Image) -> None:
    """Yellow hatching with a border over :data:`DEMO_ZONE`, as painted on the ground."""
    width, height = SIZE
    xs = [round(x * (width - 1)) for x, _ in DEMO_ZONE]
    ys = [round(y * (height - 1)) for _, y in DEMO_ZONE]
    x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
    for x in range(x1 - (y2 - y1), x2, 16):
        cv2.line(frame, (max(x, x1), y2 - max(0, x1 - x)), (min(x + y2 - y1, x2),
                 y1 + max(0, x + y2 - y1 - x2)), (40, 190, 220), 3, cv2.LINE_AA)
    cv2.rectangle(frame, (x1, y1), (x2, y2), (40, 190, 220), 3, cv2.LINE_AA)


def demo_frame(index: int, walker: Walker | None = None
               ) -> tuple[UInt8Image, tuple[int, int, int, int]]:
    """Frame ``index`` of the loop (BGR) and the person's box (all zero when out of view);
    ``walker`` replaces :func:`demo_walker` (``bench/person_search.py`` tries other looks)."""
    frame, _ = render_frame(demo_cars(), index, SIZE)
    _zone_marking(frame)  # on the pavement, below the lanes: no car covers it
    box = (walker or demo_walker()).draw(frame, index)
    return frame, box


def demo_frames() -> Iterator[UInt8Image]:
    """Every frame of the loop, in order."""
    for index in range(FPS * SECONDS):
        yield demo_frame(index)[0]


def remove_stale_demos(directory: Path, keep: Path) -> list[Path]:
    """Delete the clips older demo versions wrote to ``directory`` (``demo.mp4``,
    ``demo-v1.mp4`` ...) except ``keep``; the paths removed."""
    stale = [p for p in directory.glob("demo*.mp4")
             if p.resolve() != keep.resolve() and (p.name == "demo.mp4"
                                                   or p.name.startswith("demo-v"))]
    for path in stale:
        path.unlink(missing_ok=True)
        log.info("old demo video %s removed", path)
    return stale


def ensure_demo_video(path: Path) -> Path:
    """Write the demo clip to ``path`` unless it exists already; returns ``path``."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    write_clip(tmp, demo_frames(), FPS)
    tmp.replace(path)
    log.info("demo video written to %s", path)
    return path


def is_demo(camera: Camera) -> bool:
    """The demo camera: its video is generated into ``var/demo/``."""
    return Path(camera.url).parent == DEMO_DIR


def prepare_demo(cameras: tuple[Camera, ...] | list[Camera]) -> None:
    """Generate the demo clip for any camera that points into ``var/demo/`` and lacks it,
    and delete clips of older demo versions there (they are ours, and never replayed)."""
    for camera in cameras:
        path = Path(camera.url)
        if path.suffix == ".mp4" and path.parent == DEMO_DIR and not path.exists():
            ensure_demo_video(path)
            remove_stale_demos(DEMO_DIR, keep=path)


def warn_no_detector(cameras: tuple[Camera, ...], model_dir: Path) -> None:
    """Say in one line what a missing object detector costs the demo (its person-in-zone
    scene, not its plates), so a fresh ``make run`` without the model pack is not mistaken
    for a broken demo; nothing when no demo camera needs the detector."""
    if any(is_demo(c) and needs_detector(c) for c in cameras):
        log.warning("demo: no object detector (%s not in %s; `vigil models install "
                    "--from PACK` adds it): the person-in-zone scene is skipped, the "
                    "demo plates are still read", MODEL_NAME, model_dir)
