"""Synthetic traffic clips: cars carrying known plates crossing a road, encoded to H.264.

For the pipeline's self-tests, ``vigil replay`` end-to-end tests, ``bench/pipeline.py`` and
``bench/low_rate.py`` (:func:`traffic`: a stream of fast cars, for low analysis rates),
which must run on a fresh clone without the evaluation data: a clip the code drew itself
has known plates, known vehicle boxes (to script a :class:`~analytics.detector.FakeDetector`)
and a known first frame in which each plate is fully visible. Plates are drawn by
:mod:`vigil.synth.plates` (through a CJK font, :mod:`analytics.text`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image
from core.messages import Box, Detection
from vigil.synth.plates import render_plate, resized


@dataclass(frozen=True, slots=True)
class SynthCar:
    """One car: plate ``text`` (put "·" after the second character for the real look) and
    ``color``; ``start`` is the body's top-left corner at frame 0, ``speed`` pixels per
    frame along x (negative: right to left); ``body`` the body size (width, height)."""

    text: str
    color: str
    start: tuple[int, int]
    speed: float
    body: tuple[int, int] = (320, 230)
    plate: tuple[int, int] = (150, 48)

    @property
    def plate_text(self) -> str:
        """The plate as a reader should report it (no separator)."""
        return self.text.replace("·", "")


@dataclass(frozen=True, slots=True)
class CarTruth:
    """Where a car is in one frame: body and plate boxes clipped to the frame, and whether
    the whole plate is inside the frame (so a reader can read it)."""

    text: str
    box: Box
    plate_box: Box
    plate_visible: bool


def _clip(box: Box, size: tuple[int, int]) -> Box:
    width, height = size
    x1, y1, x2, y2 = box
    return (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))


def car_truth(car: SynthCar, index: int, size: tuple[int, int]) -> CarTruth | None:
    """The car's boxes in frame ``index``, or ``None`` when no part of it is visible."""
    bw, bh = car.body
    pw, ph = car.plate
    x = car.start[0] + car.speed * index
    y = float(car.start[1])
    body = (x, y, x + bw, y + bh)
    px, py = x + (bw - pw) / 2, y + bh - ph - 18
    plate = (px, py, px + pw, py + ph)
    clipped = _clip(body, size)
    if clipped[2] - clipped[0] < 8 or clipped[3] - clipped[1] < 8:
        return None
    inside = plate[0] >= 0 and plate[2] <= size[0]
    return CarTruth(car.plate_text, clipped, _clip(plate, size), inside)


@lru_cache(maxsize=4)
def _background(size: tuple[int, int], seed: int) -> UInt8Image:
    """Textured grey ground with a darker road band and lane marks (read-only, cached)."""
    width, height = size
    rng = np.random.default_rng(seed)
    noise = rng.integers(90, 140, size=(height, width, 3), dtype=np.uint8)
    ground = np.asarray(cv2.GaussianBlur(noise, (0, 0), 3), dtype=np.uint8)
    ground[height // 4: height * 15 // 16] = ground[height // 4: height * 15 // 16] // 2 + 20
    ground[height * 19 // 32: height * 19 // 32 + 4, ::80] = 220
    ground.flags.writeable = False
    return ground


def _paste(frame: UInt8Image, image: UInt8Image, left: int, top: int) -> None:
    """Copy ``image`` into ``frame`` at (left, top), clipped to the frame (in place)."""
    height, width = frame.shape[:2]
    ih, iw = image.shape[:2]
    x1, y1 = max(0, left), max(0, top)
    x2, y2 = min(width, left + iw), min(height, top + ih)
    if x2 > x1 and y2 > y1:
        frame[y1:y2, x1:x2] = image[y1 - top: y2 - top, x1 - left: x2 - left]


@lru_cache(maxsize=16)
def _car_sprite(car: SynthCar) -> UInt8Image:
    """The car seen from behind: dark body, lighter rear window, lamps, the plate."""
    bw, bh = car.body
    pw, ph = car.plate
    sprite = np.full((bh, bw, 3), (60, 50, 45), dtype=np.uint8)
    cv2.rectangle(sprite, (bw // 8, bh // 10), (bw * 7 // 8, bh * 4 // 10), (120, 110, 100), -1)
    cv2.rectangle(sprite, (8, bh // 2), (bw // 6, bh // 2 + 22), (30, 30, 200), -1)
    cv2.rectangle(sprite, (bw - bw // 6, bh // 2), (bw - 8, bh // 2 + 22), (30, 30, 200), -1)
    plate = resized(render_plate(car.text, car.color), (pw, ph))
    _paste(sprite, plate, (bw - pw) // 2, bh - ph - 18)
    sprite.flags.writeable = False
    return sprite


def render_frame(cars: Sequence[SynthCar], index: int, size: tuple[int, int] = (1280, 720),
                 seed: int = 7) -> tuple[UInt8Image, list[CarTruth]]:
    """Frame ``index`` (BGR) and the truth of every visible car."""
    frame = _background(size, seed).copy()
    truths: list[CarTruth] = []
    for car in cars:
        truth = car_truth(car, index, size)
        if truth is None:
            continue
        x = round(car.start[0] + car.speed * index)
        _paste(frame, _car_sprite(car), x, car.start[1])
        truths.append(truth)
    return frame, truths


def two_cars(size: tuple[int, int] = (1280, 720), frames: int = 75) -> tuple[SynthCar, ...]:
    """The standard test scene: a blue 京A12345 left to right in the far lane and a green
    new-energy 京AD12345 right to left in the near lane, both crossing within ``frames``."""
    width, height = size
    scale = width / 1280
    body = (round(320 * scale), round(230 * scale))
    plate = (round(150 * scale), round(48 * scale))
    travel = (width + body[0]) / frames
    far = SynthCar("京A·12345", "blue", (-body[0], round(height * 0.27)), travel, body, plate)
    near = SynthCar("京A·D12345", "green", (width, round(height * 0.6)), -travel * 1.1,
                    body, plate)
    return far, near


TRAFFIC_PLATES = (("京A·12345", "blue"), ("沪B·D67890", "green"), ("粤B·3X7K9", "blue"),
                  ("苏E·5K8Q2", "blue"), ("浙A·F12368", "green"), ("川A·8M2N6", "blue"),
                  ("鲁B·6Y8H3", "blue"), ("京A·D12345", "green"), ("湘C·2P7W5", "blue"),
                  ("闽D·D35871", "green"))
"""Plates of :func:`traffic`, in order of appearance (cycled when more cars are asked)."""
TRAFFIC_SECONDS = (1.5, 1.0, 2.0, 1.2, 1.8)
"""How long each car of :func:`traffic` is in view (cycled): 1–2 s, as a car crossing
a D1 camera's picture at town speed."""


def traffic(cars: int, size: tuple[int, int] = (704, 576), fps: float = 25.0,
            gap: float = 1.4) -> tuple[tuple[SynthCar, ...], int]:
    """``cars`` cars crossing the picture one after the other, ``gap`` s apart, in
    alternating lanes and directions, each in view for a :data:`TRAFFIC_SECONDS` time;
    the cars and the number of frames until the last has left. Low-rate analysis must
    still read them: at 5 fps a car is in only 5–10 analysed frames."""
    width, height = size
    scale = width / 1280
    body = (round(320 * scale), round(230 * scale))
    plate = (round(150 * scale), round(48 * scale))
    out: list[SynthCar] = []
    end = 0
    for index in range(cars):
        text, color = TRAFFIC_PLATES[index % len(TRAFFIC_PLATES)]
        frames_in_view = TRAFFIC_SECONDS[index % len(TRAFFIC_SECONDS)] * fps
        speed = (width + body[0]) / frames_in_view
        enter = round(index * gap * fps)
        if index % 2 == 0:
            start = (round(-body[0] - speed * enter), round(height * 0.27))
        else:
            start, speed = (round(width + speed * enter), round(height * 0.6)), -speed
        out.append(SynthCar(text, color, start, speed, body, plate))
        end = max(end, enter + round(frames_in_view) + 1)
    return tuple(out), end


def scripted_detections(truths: Sequence[Sequence[CarTruth]],
                        label: str = "car") -> dict[int, list[Detection]]:
    """A :class:`FakeDetector` script: frame number → a detection per visible car body."""
    return {seq: [Detection(label, 0.9, t.box) for t in frame]
            for seq, frame in enumerate(truths)}


def write_clip(path: Path, frames: Iterator[UInt8Image], fps: int = 25, crf: int = 20) -> int:
    """Encode BGR ``frames`` to H.264 at ``path`` (yuv420p, ``crf`` quality); the count."""
    count = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": str(crf), "g": str(fps * 2)}
        for image in frames:
            if count == 0:
                stream.height, stream.width = image.shape[:2]
            video = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            container.mux(stream.encode(video))
            count += 1
        container.mux(stream.encode(None))
    return count


def make_clip(path: Path, cars: Sequence[SynthCar], frames: int, fps: int = 25,
              size: tuple[int, int] = (1280, 720)) -> list[list[CarTruth]]:
    """Render and encode ``frames`` frames of ``cars`` to ``path``; the truth per frame."""
    truths: list[list[CarTruth]] = []

    def images() -> Iterator[UInt8Image]:
        for index in range(frames):
            image, truth = render_frame(cars, index, size)
            truths.append(truth)
            yield image

    write_clip(path, images(), fps)
    return truths
