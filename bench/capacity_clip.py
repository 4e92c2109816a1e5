"""The capacity bench's camera video: a 40 s loop of cars with known plates at 704x576 25 fps.

Why generated and not a recording: recall needs to know when each plate passes, and no
clip here has labelled plates. The cars are :mod:`vigil.synth.pipeline`'s (a dark body
seen from behind, a rendered plate), scaled to a D1 picture; six pass per loop, one at a
time in alternating lanes, and one of them carries :data:`WATCHED` (the watchlist entry), so
the watched plate passes every :data:`LOOP_S` seconds and the scene is empty in between.

Encoded like an IP camera's stream, not like ``vigil.synth.pipeline.write_clip``: a constant
1.5 Mbit/s (decode cost grows with the bits; a clean drawing at CRF quality would be a few
hundred kbit/s and flatter the decoder), light sensor noise, GOP 2 s, no B-frames, and
one encoder thread so every picture is a single slice (PyAV's default slice threading gave
2-slice keyframes that the RTSP path once turned half green, issue 13; not reproduced since:
tests/ingest/test_ingest_slices_rtsp.py gets 2-slice pictures through bit-identical).

Each camera gets the loop started at another keyframe (:func:`rotated`, a remux, no
re-encoding), so N cameras do not all see a car at the same moment.

``every`` > 1 keeps every ``every``-th picture, and ``bit_rate`` sets the stream's bits: the
same scene as a camera's sub-stream (the GOP stays 2 s), which is how a centre lowers decode
cost at the camera. Decode cost follows the bits more than the pictures (bench/decode_cost.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from analytics.plates_geometry import UInt8Image
from vigil.synth.pipeline import SynthCar, car_truth, render_frame

SIZE = (704, 576)
FPS = 25
LOOP_S = 40
FRAMES = LOOP_S * FPS
GOP = 2 * FPS
PHASES = FRAMES // GOP
"""Distinct start points of the loop (one per keyframe)."""
BIT_RATE = 1_500_000
VERSION = 1
"""Bump when the scene or the encoding changes (cached clips carry it in their name)."""
WATCHED = "宁B7K531"

_BODY, _PLATE = (240, 172), (112, 36)
_CROSS_FRAMES = 75
"""A car needs 3 s to cross the picture (body fully out to fully out)."""
_CARS = (("宁B·3M826", "blue"), ("甘A·6J209", "blue"), ("宁B·7K531", "blue"),
         ("宁A·D52190", "green"), ("蒙L·59H73", "blue"), ("宁B·E8042", "blue"))


@dataclass(frozen=True, slots=True)
class Pass:
    """One car's pass in loop seconds: ``start``/``end`` bound the frames in which its
    whole plate is inside the picture (readable); ``enter``/``leave`` any part of it."""

    plate: str
    start: float
    end: float
    enter: float
    leave: float


def cars() -> tuple[SynthCar, ...]:
    """The six cars, one starting every 1000/6 frames, alternating far (left to right)
    and near (right to left) lane, each a little faster than the one before."""
    width, height = SIZE
    out: list[SynthCar] = []
    for k, (text, color) in enumerate(_CARS):
        first = 25 + k * (FRAMES - 100) // len(_CARS)
        speed = (width + _BODY[0]) / _CROSS_FRAMES * (1 + 0.04 * k)
        if k % 2 == 0:
            start = (round(-_BODY[0] - speed * first), round(height * 0.22))
        else:
            speed = -speed
            start = (round(width - speed * first), round(height * 0.56))
        out.append(SynthCar(text, color, start, speed, _BODY, _PLATE))
    return tuple(out)


def passes() -> list[Pass]:
    """Every pass of one loop, from :func:`~vigil.synth.pipeline.car_truth` per frame."""
    out: list[Pass] = []
    for car in cars():
        seen = [i for i in range(FRAMES) if car_truth(car, i, SIZE) is not None]
        readable = [i for i in seen if (t := car_truth(car, i, SIZE)) and t.plate_visible]
        if not readable or seen[-1] >= FRAMES - 1:
            raise ValueError(f"{car.plate_text}: not a whole pass inside the loop")
        out.append(Pass(car.plate_text, readable[0] / FPS, (readable[-1] + 1) / FPS,
                        seen[0] / FPS, (seen[-1] + 1) / FPS))
    return sorted(out, key=lambda p: p.start)


def _images(seed: int = 13, every: int = 1) -> Iterator[UInt8Image]:
    """The loop's frames with sensor noise (six noise fields, cycled); every ``every``-th."""
    scene = cars()
    rng = np.random.default_rng(seed)
    width, height = SIZE
    noise = [rng.normal(0, 2.5, (height, width, 1)).astype(np.int16) for _ in range(6)]
    for index in range(0, FRAMES, every):
        image, _truth = render_frame(scene, index, SIZE)
        noisy = image.astype(np.int16) + noise[index % len(noise)]
        yield np.clip(noisy, 0, 255).astype(np.uint8)


def _check_every(every: int) -> None:
    if every < 1 or GOP % every:
        raise ValueError(f"every={every}: must divide {GOP} (the GOP in frames)")


def every_for(fps: float) -> int:
    """The ``every`` that plays the loop at ``fps`` frames per second (the benches'
    ``--stream-fps``); ValueError unless ``fps`` is FPS/k for a whole k dividing the GOP."""
    every = round(FPS / fps) if fps > 0 else 0
    if every < 1 or GOP % every or abs(FPS / every - fps) > 1e-6:
        raise ValueError(f"{fps:g} fps: must be {FPS}/k for a whole k dividing {GOP} "
                         "(25, 12.5, 5, ...)")
    return every


def encode(path: Path, every: int = 1, bit_rate: int = BIT_RATE) -> Path:
    """Write the loop to ``path`` (H.264 in MP4, camera-like settings: see the module) at
    ``FPS / every`` frames per second and ``bit_rate`` bit/s."""
    _check_every(every)
    gop = GOP // every
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(FPS, every), options={
            "preset": "veryfast", "g": str(gop), "keyint_min": str(gop), "bf": "0",
            "sc_threshold": "0"})
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.bit_rate = bit_rate
        stream.thread_count = 1
        for image in _images(every=every):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    tmp.replace(path)
    return path


def rotated(src: Path, dst: Path, phase: int, every: int = 1) -> Path:
    """``src`` (written by :func:`encode` with the same ``every``) started at keyframe
    ``phase`` (of :data:`PHASES`), the frames before it moved to the end; packets are copied,
    timestamps rewritten. Looping the result plays the same endless sequence as looping
    ``src``, from another point."""
    _check_every(every)
    frames, rate = FRAMES // every, Fraction(FPS, every)
    cut = phase * GOP // every
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        ins = inp.streams.video[0]
        ost = out.add_stream_from_template(ins)
        packets = [p for p in inp.demux(ins) if p.size > 0]
        if len(packets) != frames:
            raise ValueError(f"{src}: {len(packets)} packets, expected {frames}")
        step = round(1 / (rate * (ins.time_base or 1 / rate)))
        for n, packet in enumerate(packets[cut:] + packets[:cut]):
            packet.pts = packet.dts = n * step
            packet.stream = ost
            out.mux(packet)
    tmp.replace(dst)
    return dst


def camera_clips(folder: Path, count: int, every: int = 1,
                 bit_rate: int = BIT_RATE) -> list[tuple[Path, float]]:
    """A clip per camera (cached in ``folder``) and the loop second it starts at; phases
    spread evenly over the loop (cameras share a phase once ``count`` > :data:`PHASES`).
    ``every`` > 1 or another ``bit_rate``: the sub-stream clips (see the module)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"capacity-v{VERSION}" + (f"-s{every}" if every > 1 else "")
    name += f"-b{bit_rate // 1000}k" if bit_rate != BIT_RATE else ""
    base = folder / f"{name}.mp4"
    if not base.exists():
        encode(base, every, bit_rate)
    out: list[tuple[Path, float]] = []
    for k in range(count):
        phase = round(k * PHASES / count) % PHASES if count else 0
        clip = folder / f"{name}-p{phase:02d}.mp4"
        if phase == 0:
            clip = base
        elif not clip.exists():
            rotated(base, clip, phase, every)
        out.append((clip, phase * GOP / FPS))
    return out


def shifted(loop: list[Pass], offset: float) -> list[Pass]:
    """The passes of a clip that starts at loop second ``offset``, in that clip's seconds
    (a pass cut by the clip's end keeps its times past :data:`LOOP_S`: looping joins it)."""
    out = []
    for p in loop:
        start = (p.start - offset) % LOOP_S
        delta = start - p.start
        out.append(Pass(p.plate, start, p.end + delta, p.enter + delta, p.leave + delta))
    return sorted(out, key=lambda p: p.start)
