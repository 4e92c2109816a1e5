"""The capacity bench's arithmetic, kept free of processes and sockets so a test can feed
it real readings: Prometheus text, pass matching (recall), rates, percentiles, backlog.

Times are wall-clock seconds on this machine. A pass's *wire* times are when its frames
left the RTSP server: the loop's start (the server's ``PLAY``/``LOOP`` line) plus the
pass's second in the clip. Vigil stamps a frame ``captured_at`` when it decodes it, so a
sighting's ``first_seen`` minus the wire time of the same pass is how late the picture was
looked at; if that lag rises over the run, frames are queuing somewhere (backlog).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bench.capacity_clip import WATCHED, Pass

Labels = dict[str, str]
Metrics = dict[str, list[tuple[Labels, float]]]
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
MATCH_BEFORE = 1.0
"""A sighting may start this long before its pass's wire window (clock granularity)."""
MATCH_AFTER = 15.0
"""...and this long after it (late pictures still count; the same plate comes back on a
camera only every 40 s, so the window cannot take the next pass)."""


def parse_metrics(text: str) -> Metrics:
    """Prometheus text exposition → metric name → [(labels, value)]; comments skipped,
    label escapes (``\\"``, ``\\\\``, ``\\n``) undone. A line that is not a sample is an
    error naming it (a truncated scrape must not read as zeros)."""
    out: Metrics = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        found = _SAMPLE.match(line.strip())
        if found is None:
            raise ValueError(f"not a Prometheus sample line: {line!r}")
        name, raw_labels, value = found.groups()
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(raw_labels or "")}
        out.setdefault(name, []).append((labels, float(value)))
    return out


@dataclass(frozen=True, slots=True)
class Scrape:
    """One ``/metrics`` reading and when it was taken."""

    at: float
    metrics: Metrics

    def by_camera(self, name: str, **match: str) -> dict[str, float]:
        """``name``'s value per ``camera`` label, summed over the other labels, among the
        samples whose labels include ``match``; empty when the metric is absent."""
        out: dict[str, float] = {}
        for labels, value in self.metrics.get(name, []):
            if "camera" in labels and all(labels.get(k) == v for k, v in match.items()):
                out[labels["camera"]] = out.get(labels["camera"], 0.0) + value
        return out

    def label_values(self, name: str, label: str) -> set[str]:
        return {labels[label] for labels, _v in self.metrics.get(name, []) if label in labels}


def counter_rates(scrapes: Sequence[Scrape], name: str, **match: str) -> dict[str, float]:
    """Per camera: (last − first) / elapsed of a counter over the scrapes; cameras missing
    from either end are left out (empty: the metric does not exist)."""
    if len(scrapes) < 2:
        return {}
    first, last = scrapes[0], scrapes[-1]
    a, b = first.by_camera(name, **match), last.by_camera(name, **match)
    span = last.at - first.at
    return {cam: (b[cam] - a[cam]) / span for cam in b if cam in a and span > 0}


def gauge_means(scrapes: Sequence[Scrape], name: str) -> dict[str, float]:
    """Per camera: the mean of a gauge over the scrapes (empty when absent)."""
    sums: dict[str, list[float]] = {}
    for s in scrapes:
        for cam, value in s.by_camera(name).items():
            sums.setdefault(cam, []).append(value)
    return {cam: sum(v) / len(v) for cam, v in sums.items()}


@dataclass(frozen=True, slots=True)
class Seen:
    """A sighting row of the store."""

    sighting_id: str
    camera: str
    plate: str
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class Alerted:
    """A plate alert as the WebSocket client received it."""

    alert_id: str
    camera: str
    subject: str
    sighting_id: str
    first_seen: float
    last_seen: float
    received: float


@dataclass(frozen=True, slots=True)
class WirePass:
    camera: str
    plate: str
    start: float
    end: float
    enter: float
    leave: float


def wire_passes(camera: str, clip: Sequence[Pass], starts: Sequence[tuple[float, bool]],
                window: tuple[float, float]) -> list[WirePass]:
    """The passes that went over the wire for ``camera`` wholly inside ``window``, from
    its loop ``starts`` (time, True for a fresh ``PLAY``: a reconnect restarts the file and
    cuts the passes of the loop before it)."""
    out: list[WirePass] = []
    ordered = sorted(starts)
    for j, (at, _play) in enumerate(ordered):
        cut = next((t for t, play in ordered[j + 1:] if play), math.inf)
        for p in clip:
            w = WirePass(camera, p.plate, at + p.start, at + p.end, at + p.enter, at + p.leave)
            if window[0] <= w.enter and w.leave <= min(window[1], cut):
                out.append(w)
    return out


@dataclass
class Tally:
    """One camera's passes: present in the video, read, alerted, and what went wrong."""

    present: int = 0
    sighted: int = 0
    watched: int = 0
    watched_sighted: int = 0
    watched_alerted: int = 0
    split: int = 0
    lags: list[tuple[float, float]] = field(default_factory=list)
    """(wire start, first_seen − wire start) of each read pass."""
    read: list[str] = field(default_factory=list)
    """The plate of each read pass."""


def _window(p: WirePass, t: float) -> bool:
    return p.start - MATCH_BEFORE <= t <= p.end + MATCH_AFTER


def tally(passes: Iterable[WirePass], seen: Sequence[Seen],
          alerts: Sequence[Alerted]) -> Tally:
    """Match one camera's passes with its sightings (same plate, ``first_seen`` in the
    pass's window) and plate alerts (subject the watched plate, ``first_seen`` in the
    window)."""
    out = Tally()
    for p in passes:
        reads = [s for s in seen if s.plate == p.plate and _window(p, s.first_seen)]
        out.present += 1
        out.sighted += bool(reads)
        out.split += len(reads) > 1
        if reads:
            out.lags.append((p.start, min(s.first_seen for s in reads) - p.start))
            out.read.append(p.plate)
        if p.plate == WATCHED:
            out.watched += 1
            out.watched_sighted += bool(reads)
            out.watched_alerted += any(a.subject == WATCHED and _window(p, a.first_seen)
                                       for a in alerts)
    return out


@dataclass(frozen=True, slots=True)
class Reference:
    """What the full-rate replay read in one loop: plates read, and whether the watched
    pass alerted."""

    read: frozenset[str]
    watched_alerted: bool


def reference(lines: Sequence[dict[str, object]], clip: Sequence[Pass],
              start: float) -> Reference:
    """The replay's JSON lines (``vigil replay --json --start START``) matched to ``clip``."""
    passes = [WirePass("replay", p.plate, start + p.start, start + p.end, start + p.enter,
                       start + p.leave) for p in clip]
    seen = [Seen(str(x["sighting_id"]), "replay", str(x["plate"]),
                 float(str(x["first_seen"])), float(str(x["last_seen"])))
            for x in lines if x.get("type") == "sighting"]
    read = frozenset(p.plate for p in passes
                     if any(s.plate == p.plate and _window(p, s.first_seen) for s in seen))
    alerted = any(x.get("type") == "alert" for x in lines)
    return Reference(read, alerted and WATCHED in read)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1, nearest rank); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def lag_growth(lags: Sequence[tuple[float, float]]) -> float | None:
    """Median lag of the last third of the run minus that of the first third (seconds);
    ``None`` with fewer than 6 read passes."""
    if len(lags) < 6:
        return None
    ordered = [lag for _t, lag in sorted(lags)]
    third = len(ordered) // 3
    first, last = percentile(ordered[:third], 0.5), percentile(ordered[-third:], 0.5)
    return None if first is None or last is None else last - first


def gauge_growth(scrapes: Sequence[Scrape], name: str) -> dict[str, float]:
    """Per camera: mean of a gauge over the last third of the scrapes minus the first
    third (empty when absent or too few scrapes)."""
    third = len(scrapes) // 3
    if third < 1:
        return {}
    early, late = gauge_means(scrapes[:third], name), gauge_means(scrapes[-third:], name)
    return {cam: late[cam] - early[cam] for cam in late if cam in early}


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None
