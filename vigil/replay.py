"""``vigil replay VIDEO``: the whole analytics and rule pipeline on a recorded file.

The same :class:`~analytics.pipeline.CameraPipeline` and :class:`~alerts.rules.RuleEngine`
as ``vigil run``, without ingest, bus or store: frames come straight from PyAV (one decode
thread) with ``captured_at = start + pts``, as fast as the pipeline goes (``--realtime``
paces at the file's own rate).

**Live rate.** A live camera with ``ingest.max_fps`` analyses only that many frames a
second (:class:`ingest.decode.RateLimit`, on the frames' own times); the replay applies the
same rule to the same camera, so it reads what the live camera would read, not more (at
5 fps a fast car is in 7 analysed frames, at 25 in 37). ``--max-fps N`` replaces the
camera's value for one run, ``--max-fps 0`` analyses every frame; the summary line counts
the frames skipped. That makes it the system's end-to-end test and the way to
check a camera's zones, lines and plate reading on a clip before going live.

Camera: ``--camera ID`` from the config, else the config's first enabled camera, else a
default camera reading plates, vehicles and persons. Rules and watchlists come from
``<config>/rules.yaml`` and ``<config>/watchlists/`` when present (the engine is pure, so
no store is needed). Output: one line per sighting, scene event and alert — JSON lines
with ``"type": "sighting" | "event" | "alert"`` and the message's fields under ``--json``
— and a summary line on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import av
import numpy as np

from alerts.lookup import watchlist_lookup
from alerts.rule_match import WatchlistHit, WatchlistLookup
from alerts.rules import RuleEngine
from alerts.watchlist import Watchlist
from alerts.watchlist_io import load_watchlist_dir, parse_time
from analytics import modelpack
from analytics.evidence import EvidenceWriter
from analytics.pipeline import CameraPipeline, Output
from analytics.pipeline_parts import load_parts, needs_detector, needs_plates, reader_options
from core import codec
from core.config import LoadedConfig, load_config
from core.config.models import Camera, ModelOptions
from core.errors import FatalError
from core.messages import Alert, Frame, Sighting
from ingest.decode import RateLimit
from vigil.alerting import WATCHLIST_DIR, rules_for

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("configs")


@dataclass(frozen=True, slots=True)
class ReplayArgs:
    """What ``vigil replay`` was asked to do (see ``vigil replay --help``)."""

    video: Path
    config: Path | None = None
    camera: str | None = None
    json: bool = False
    realtime: bool = False
    models: Path | None = None
    evidence: Path | None = None
    start: str | None = None
    max_fps: float | None = None
    """``None``: the camera's ``ingest.max_fps``; 0: every frame; else this rate."""


@dataclass(slots=True)
class Summary:
    frames: int = 0
    skipped: int = 0
    video_seconds: float = 0.0
    wall_seconds: float = 0.0
    sightings: int = 0
    events: int = 0
    alerts: int = 0

    def line(self) -> str:
        fps = self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0
        return (f"replay: frames={self.frames} video={self.video_seconds:.1f}s "
                f"wall={self.wall_seconds:.1f}s fps={fps:.1f} skipped={self.skipped} "
                f"sightings={self.sightings} events={self.events} alerts={self.alerts}")


class EventClock:
    """The rule engine's clock during a replay: the latest frame time (event time), so
    cool-downs and housekeeping follow the recording, not the wall clock."""

    def __init__(self, start: float) -> None:
        self.at = start
        self._mono = time.monotonic()

    def now(self) -> float:
        return self.at

    def monotonic(self) -> float:
        return time.monotonic() - self._mono


def decode_frames(path: Path, camera_id: str, start: float) -> Iterator[Frame]:
    """Frames of the first video stream of ``path``, one decode thread, with
    ``captured_at = start + (pts − first pts)``; the frame rate fills in missing pts."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise FatalError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_count = 1
        rate = float(stream.average_rate or 25)
        first: float | None = None
        for seq, picture in enumerate(container.decode(stream)):
            pts = picture.time if picture.time is not None else seq / rate
            first = pts if first is None else first
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            image.flags.writeable = False
            yield Frame(camera_id, seq, start + float(pts) - float(first), image)


def default_camera(video: Path) -> Camera:
    """The camera used when no config names one: plates, vehicles and persons."""
    return Camera(id="replay", name=video.stem or "replay", url=str(video),
                  analytics=["plates", "vehicles", "persons"])


def choose_camera(loaded: LoadedConfig | None, camera_id: str | None, video: Path) -> Camera:
    """``--camera`` (an unknown id is an error listing the known ones), else the first
    enabled camera of the config, else :func:`default_camera`."""
    cameras = loaded.cameras if loaded is not None else ()
    if camera_id is not None:
        for camera in cameras:
            if camera.id == camera_id:
                return camera
        known = ", ".join(c.id for c in cameras) or "none"
        raise FatalError(f"camera {camera_id!r} is not in the config (cameras: {known})")
    enabled = [c for c in cameras if c.enabled]
    return enabled[0] if enabled else default_camera(video)


def _no_hits(plate: str, camera_id: str, group: str, at: float) -> Sequence[WatchlistHit]:
    return ()


def build_engine(config: Path | None, cameras: Mapping[str, Camera],
                 clock: EventClock) -> RuleEngine | None:
    """The rule engine for ``<config>/rules.yaml`` (the built-in watchlist rule when it is
    absent, as in ``vigil run``) and ``<config>/watchlists/``; ``None`` without a config
    folder (sightings and events are still printed)."""
    if config is None:
        return None
    rules = rules_for(config, tuple(cameras.values()))
    lookup: WatchlistLookup = _no_hits
    if (config / WATCHLIST_DIR).is_dir():
        watchlist = Watchlist(load_watchlist_dir(config / WATCHLIST_DIR))
        lookup = watchlist_lookup(lambda: watchlist)
        log.info("replay: %d watchlist entries", len(watchlist))
    return RuleEngine(rules, cameras, lookup, clock)


def as_json(message: Output | Alert) -> str:
    """``{"type": wire name, ...the message's fields}`` on one line (UTF-8, not escaped)."""
    envelope = json.loads(codec.encode(message))
    return json.dumps({"type": envelope["type"], **envelope["data"]}, ensure_ascii=False)


def as_text(message: Output | Alert) -> str:
    """A one-line human reading of a message."""
    if isinstance(message, Alert):
        return f"ALERT L{message.level} {message.rule_id}: {message.summary_zh}"
    if isinstance(message, Sighting):
        stage = "final" if message.final else "early"
        return (f"sighting {message.plate} {message.plate_type} {message.color} "
                f"conf={message.confidence:.2f} {stage} id={message.sighting_id}")
    return (f"event {message.kind} zone={message.zone} label={message.label} "
            f"tracks={list(message.track_ids)} {message.detail}".rstrip())


class Replay:
    """One replay run: pipeline + optional rule engine + output."""

    def __init__(self, args: ReplayArgs, out: TextIO) -> None:
        self.args, self.out = args, out
        config = args.config if args.config is not None else (
            DEFAULT_CONFIG if DEFAULT_CONFIG.is_dir() else None)
        loaded = load_config(config) if config is not None else None
        self.camera = choose_camera(loaded, args.camera, args.video)
        self.start = time.time() if args.start is None else _start_time(args.start)
        self.clock = EventClock(self.start)
        cameras = {c.id: c for c in (loaded.cameras if loaded else ())}
        cameras.setdefault(self.camera.id, self.camera)
        self.engine = build_engine(config, cameras, self.clock)
        model_dir = args.models or _model_dir(loaded)
        reader = reader_options(loaded.service.models if loaded else ModelOptions())
        parts = load_parts(model_dir, needs_plates(self.camera), needs_detector(self.camera),
                           reader=reader)
        writer = EvidenceWriter(args.evidence) if args.evidence is not None else None
        self.pipeline = CameraPipeline(self.camera, parts, writer)
        self.summary = Summary()
        self.max_fps = (self.camera.ingest.max_fps if args.max_fps is None
                        else args.max_fps or None)

    def run(self) -> Summary:
        """Decode, analyse, evaluate and print every frame; then flush the open passes."""
        started = time.monotonic()
        last = self.start
        limit = RateLimit(self.max_fps)
        for frame in decode_frames(self.args.video, self.camera.id, self.start):
            if not limit.allow(frame.captured_at):
                continue
            if self.args.realtime:
                _pace(started, frame.captured_at - self.start)
            self.clock.at = last = frame.captured_at
            self.summary.frames += 1
            self._emit(self.pipeline.process(frame))
        self._emit(self.pipeline.flush(last))
        self.summary.skipped = limit.skipped
        self.summary.video_seconds = last - self.start
        self.summary.wall_seconds = time.monotonic() - started
        return self.summary

    def _emit(self, found: Sequence[Output]) -> None:
        for message in found:
            if isinstance(message, Sighting):
                self.summary.sightings += 1
            else:
                self.summary.events += 1
            self._print(message)
            alerts = self.engine.evaluate(message) if self.engine is not None else []
            self.summary.alerts += len(alerts)
            for alert in alerts:
                self._print(alert)

    def _print(self, message: Output | Alert) -> None:
        print(as_json(message) if self.args.json else as_text(message), file=self.out,
              flush=True)


def _start_time(text: str) -> float:
    """POSIX seconds, or ISO 8601 / yyyyMMddHHmmss (Beijing time when no offset)."""
    try:
        return float(text)
    except ValueError:
        return parse_time(text)


def _model_dir(loaded: LoadedConfig | None) -> Path:
    """The config's ``models.dir`` when that folder exists, else the default model dir."""
    if loaded is not None and Path(loaded.service.models.dir).is_dir():
        return Path(loaded.service.models.dir)
    return modelpack.default_model_dir()


def _pace(started: float, offset: float) -> None:
    """Sleep until ``offset`` seconds of video have passed since ``started`` (monotonic)."""
    delay = started + offset - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def replay(args: ReplayArgs, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run a replay; 0 on success, 2 with the reason on stderr when it cannot run."""
    if not args.video.is_file():
        print(f"vigil replay: {args.video}: no such file", file=err)
        return 2
    if args.max_fps is not None and not args.max_fps >= 0:
        print(f"vigil replay: --max-fps {args.max_fps}: must be 0 (every frame) or more",
              file=err)
        return 2
    try:
        summary = Replay(args, out).run()
    except FatalError as exc:
        print(f"vigil replay: {exc}", file=err)
        return 2
    except av.error.FFmpegError as exc:
        print(f"vigil replay: cannot decode {args.video}: {exc}", file=err)
        return 2
    print(summary.line(), file=err)
    return 0


def replay_command(ns: argparse.Namespace) -> int:
    """The ``vigil replay`` sub-command (argparse namespace → :func:`replay`)."""
    return replay(ReplayArgs(video=ns.video, config=ns.config, camera=ns.camera,
                             json=ns.json, realtime=ns.realtime, models=ns.models,
                             evidence=ns.evidence, start=ns.start, max_fps=ns.max_fps))
