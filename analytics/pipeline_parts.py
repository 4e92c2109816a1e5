"""What a camera's analytics need, and the shared models that provide it.

A worker process analyses several cameras; ONNX sessions are the expensive part (memory,
threads, start-up time), so :func:`load_parts` loads each model once per process into a
:class:`PipelineParts` that every :class:`~analytics.pipeline.CameraPipeline` of that
process shares. Which models are needed follows from the cameras' ``analytics`` lists
(:func:`parts_needed`), so a node without plate cameras never loads the plate models, and a
missing model stops the node at start-up with the command that installs it.

Modes, from a camera's ``analytics``:

* ``vehicles``/``persons`` or a scene rule (``intrusion``, ``line_crossing``, ``loitering``,
  ``crowd``) → the object detector runs, for the classes those need;
* ``plates`` → plates are found over the whole frame and the plate boxes themselves are
  tracked, in both modes;
* ``plates`` with ``vehicles`` → *vehicle* mode: the object detector runs too, and a plate
  inside a tracked vehicle's box gets that box in its evidence (a bonus: a car the
  detector misses, or meets too late to confirm at a low frame rate, is read all the same);
* ``plates`` without ``vehicles`` → *checkpoint* mode (gates, toll lanes, where plates are
  large and a vehicle detector adds nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from analytics.detector import LABELS, Detector, DetectorOptions, YoloxDetector, build_detector
from analytics.plates import PlateReader, PlateResult, ReaderOptions
from analytics.plates_detect import PlateBox
from analytics.plates_geometry import UInt8Image
from core.config.models import Camera, ModelOptions
from core.errors import ModelError
from core.messages import Box, SceneKind

log = logging.getLogger(__name__)

VEHICLE_LABELS = frozenset({"car", "bus", "truck", "motorcycle"})
"""Detector classes whose plates are read."""
SCENE_KINDS: Mapping[str, SceneKind] = {
    "intrusion": SceneKind.INTRUSION, "line_crossing": SceneKind.LINE_CROSS,
    "loitering": SceneKind.LOITERING, "crowd": SceneKind.CROWD,
}
"""Camera ``analytics`` name → the ``SceneEvent.kind`` it enables."""
DETECTOR_ANALYTICS = frozenset({"vehicles", "persons", *SCENE_KINDS})


def needs_detector(camera: Camera) -> bool:
    """True when the camera's analytics need the object detector."""
    return bool(DETECTOR_ANALYTICS.intersection(camera.analytics))


def needs_plates(camera: Camera) -> bool:
    """True when the camera reads plates (in vehicle boxes or over the whole frame)."""
    return "plates" in camera.analytics


def checkpoint_mode(camera: Camera) -> bool:
    """Plates without vehicle detection: read over the full frame, track plate boxes."""
    return needs_plates(camera) and "vehicles" not in camera.analytics


def detector_classes(camera: Camera) -> frozenset[str]:
    """The detector classes this camera needs: vehicles, persons, and whatever its zones
    and lines watch (only classes the detector knows)."""
    wanted: set[str] = set()
    if "vehicles" in camera.analytics:
        wanted |= VEHICLE_LABELS
    if "persons" in camera.analytics:
        wanted.add("person")
    if SCENE_KINDS.keys() & set(camera.analytics):
        for zone in camera.zones:
            wanted.update(zone.classes)
        for line in camera.lines:
            wanted.update(line.classes)
    return frozenset(wanted & LABELS)


def parts_needed(cameras: Iterable[Camera]) -> tuple[bool, bool]:
    """``(need_plates, need_detector)`` over the enabled ``cameras``."""
    on = [c for c in cameras if c.enabled]
    return any(needs_plates(c) for c in on), any(needs_detector(c) for c in on)


class PlateSource(Protocol):
    """What the pipeline needs from a plate reader (:class:`PlateReader`, or a scripted
    twin in tests): the plates of a picture, then the text of those it wants read."""

    def find(self, image: UInt8Image, roi: Box | None = None,
             warm: bool = False) -> list[PlateBox]:
        """Every plate found in ``image`` (or inside ``roi``), not read; ``warm``: in
        the picture with its blue channel halved (:func:`analytics.plates.warmed`)."""
        ...

    def read_found(self, image: UInt8Image, found: Sequence[PlateBox]) -> list[PlateResult]:
        """The plates ``found`` in ``image``, read."""
        ...


@dataclass(frozen=True, slots=True)
class PipelineParts:
    """Models shared by every camera pipeline of one worker process (``None``: not loaded)."""

    detector: Detector | None = None
    plates: PlateSource | None = None

    def detector_for(self, camera: Camera) -> Detector:
        """The detector for ``camera``: the shared model restricted to the classes the
        camera needs (same session, per-camera options)."""
        if self.detector is None:
            raise ModelError(f"camera {camera.id}: analytics {camera.analytics} need the "
                             "object detector, which was not loaded (load_parts("
                             "need_detector=True))")
        classes = detector_classes(camera)
        if isinstance(self.detector, YoloxDetector) and classes:
            options = self.detector.options
            return self.detector.with_options(DetectorOptions(
                score_threshold=options.score_threshold, nms_iou=options.nms_iou,
                classes=classes, roi=options.roi, input_size=options.input_size))
        return self.detector

    def plate_reader(self, camera: Camera) -> PlateSource:
        """The shared plate reader; a clear error when a plate camera has none."""
        if self.plates is None:
            raise ModelError(f"camera {camera.id}: analytics include plates but the plate "
                             "reader was not loaded (load_parts(need_plates=True))")
        return self.plates


def reader_options(models: ModelOptions) -> ReaderOptions:
    """The plate reader settings ``service.yaml``'s ``models:`` section asks for."""
    second = models.plate_second_opinion
    return ReaderOptions(detector_size=models.plate_detector,
                         recogniser=models.plate_recogniser,
                         second_opinion=None if second == "none" else second)


def load_parts(model_dir: Path, need_plates: bool, need_detector: bool,
               detector: str = "onnx", reader: ReaderOptions | None = None) -> PipelineParts:
    """Load the models the cameras need, once per process, from ``model_dir``.

    ``detector`` is ``onnx`` (YOLOX-nano) or ``fake`` (tests); ``reader`` the plate reader
    settings (:func:`reader_options` of ``service.yaml``'s ``models:``).
    Raises :class:`ModelError` naming the missing or damaged file and the command that
    installs it
    (``vigil models install --from /path/to/pack``) — call it before opening any camera.
    """
    plates: PlateReader | None = None
    found: Detector | None = None
    try:
        if need_detector:
            found = build_detector(detector, Path(model_dir))
        if need_plates:
            plates = PlateReader.load(Path(model_dir), reader)
    except ModelError as exc:
        raise ModelError(f"analytics cannot start: {exc}") from exc
    log.info("pipeline parts loaded from %s: detector=%s plates=%s", model_dir,
             detector if found is not None else "none", plates is not None)
    return PipelineParts(found, plates)
