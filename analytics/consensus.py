"""Plate consensus: many noisy reads of one vehicle pass → one voted plate, one sighting.

A plate is read on several frames while a vehicle crosses the picture; single reads are
wrong now and then (a province character misread at the picture's edge, a new-energy
plate's ``D`` dropped). :class:`PlateConsensus` keeps the reads of each track and votes.

**Vote.** Only reads whose text is a valid plate take part (the reader already corrected
what it could). Reads are grouped by length, so an 8-character new-energy read and a
7-character read of the same car compete as wholes: the group with the most *weight* wins,
where a read's weight is its plate width in pixels × its mean character confidence (a big,
sure read counts more than a small, doubtful one). Inside the group every character
position is voted, each read adding ``char confidence × plate width`` for its character.
Reads of different formats of one length (``京A1234警`` and ``京A12345``) pool their
evidence; if the per-position winners mix two formats into an invalid plate, the vote is
redone inside the heaviest single format. Colour is voted with the read weights.

**Sighting fields.** ``plate`` is the voted text (normalised), ``plate_raw`` the heaviest
single read that agrees with it, as the reader reported it; ``first_seen``/``last_seen``
span the pass's reads (and the track's end, for the final).

**Confidence** = (winning group's share of all weight) × min over positions of
(winner's share of the position's votes × winner's weighted mean character confidence).
With one read this is that read's minimum character confidence, the reader's own measure.

**Emission** (one pass = one ``sighting_id``):

* EARLY (``final=False``) once the vote is valid, its confidence ≥ ``early_min_confidence``
  and either ``early_reads`` (3) reads agree exactly with it, or one agreeing read is
  *strong* (every character ≥ ``strong_confidence``, 0.95), or reads have been collected
  for ``early_after`` seconds (0.6) and 2 agree. Reads every ≤ 0.3 s (the pipeline reads
  every 0.15 s) make three agreeing reads take ≤ 0.6 s, so the early sighting comes ≤ 1 s
  after the first readable frame at 10 fps or more, even with a misread in between.
  At most one early sighting per track, ever.
* FINAL (``final=True``) when the track ends (:meth:`PlateConsensus.end`), after
  ``max_duration`` seconds of reads or ``idle_after`` seconds without one
  (:meth:`PlateConsensus.expire`), when evicted, or at end of stream (:meth:`flush`): same
  ``sighting_id`` as the early one, the plate possibly corrected by later reads. A pass
  without an early sighting emits a final only when its vote is valid and at least
  ``final_min_confidence`` sure. A finished track is closed: later reads are ignored.

**One car, one pass.** At a low analysis rate a tracker may lose a fast plate between two
frames and start a new track for it. A pass whose vote (no sighting yet) equals the vote
of another open pass read within ``link_within`` seconds (2) is merged into that pass:
its reads and track ids join it, and the pass ends when the last of its tracks ends. Two
cars with the same plate on one camera within two seconds are one car, or a cloned plate
that the cross-camera rule, not this vote, is there to catch.

Bounded state: at most ``max_tracks`` passes (the least recently read one is finalised and
evicted when a new track arrives), ``max_reads`` reads per pass (the lightest read is
dropped), and ``max_closed`` remembered closed track ids. Pure: no clock, no I/O; times are
the frames' capture times, passed in.
"""

from __future__ import annotations

import enum
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.messages import PlateRead, Sighting
from core.plates import UNKNOWN, classify, is_valid, normalize

UNKNOWN_TYPE = "unknown"


class PassStage(enum.StrEnum):
    """How far a track's pass is (:meth:`PlateConsensus.stage`); the pipeline reads less, or
    not at all, as it advances (analytics/pipeline_reads.py)."""

    NEW = "new"
    """No reads yet."""
    READING = "reading"
    """Reads collected, no sighting sent."""
    EARLY = "early"
    """The early sighting was sent."""
    CLOSED = "closed"
    """The final sighting was sent (or the pass ended without one)."""


def _uuid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class ConsensusOptions:
    """Thresholds (see the module docstring); times in seconds of event time."""

    early_reads: int = 3
    strong_confidence: float = 0.95
    early_after: float = 0.6
    early_min_confidence: float = 0.6
    final_min_confidence: float = 0.5
    max_duration: float = 120.0
    idle_after: float = 30.0
    max_tracks: int = 64
    max_reads: int = 32
    max_closed: int = 4096
    link_within: float = 2.0
    new_id: Callable[[], str] = field(default=_uuid)

    def __post_init__(self) -> None:
        for name in ("early_reads", "max_tracks", "max_reads", "max_closed"):
            if getattr(self, name) < 1:
                raise ValueError(f"consensus option {name} must be at least 1")


@dataclass(frozen=True, slots=True)
class WeightedRead:
    """One read with the time it was taken and its voting weight."""

    read: PlateRead
    at: float

    @property
    def width(self) -> float:
        return max(1.0, self.read.box[2] - self.read.box[0])

    @property
    def weight(self) -> float:
        confs = self.read.char_confidences
        return self.width * (sum(confs) / len(confs) if confs else 0.0)


@dataclass(frozen=True, slots=True)
class Vote:
    """The outcome of voting a pass's reads. ``best`` is the heaviest read agreeing with
    ``text`` (the evidence picture), ``agreeing`` counts reads equal to ``text``."""

    text: str
    color: str
    confidence: float
    agreeing: int
    best: WeightedRead

    @property
    def valid(self) -> bool:
        return is_valid(self.text)


@dataclass(frozen=True, slots=True)
class Emission:
    """A sighting and what the pipeline needs to attach evidence to it."""

    sighting: Sighting
    track_id: int
    best: PlateRead
    best_at: float


@dataclass(slots=True)
class _Pass:
    track_id: int
    first_seen: float
    last_seen: float
    reads: list[WeightedRead] = field(default_factory=list)
    sighting_id: str | None = None
    tracks: set[int] = field(default_factory=set)
    text: str = ""
    """The current vote's text (empty: no valid read yet), for merging split passes."""


def _position_vote(reads: Sequence[WeightedRead], index: int) -> tuple[str, float]:
    """Winner at one position and its confidence (share × weighted mean confidence). An
    unknown province (``?``) does not vote against a read one: it wins, at confidence 1
    (certainly unknown), only when no read of the pass saw the province."""
    known = [r for r in reads if r.read.text[index] != UNKNOWN]
    if not known:
        return UNKNOWN, 1.0
    scores: dict[str, float] = {}
    widths: dict[str, float] = {}
    for r in known:
        char = r.read.text[index]
        conf = r.read.char_confidences[index] if index < len(r.read.char_confidences) else 0.0
        scores[char] = scores.get(char, 0.0) + conf * r.width
        widths[char] = widths.get(char, 0.0) + r.width
    total = sum(scores.values())
    winner = max(scores, key=lambda c: (scores[c], widths[c]))
    if total <= 0.0:
        return winner, 0.0
    return winner, (scores[winner] / total) * (scores[winner] / widths[winner])


def _vote_group(reads: Sequence[WeightedRead]) -> tuple[str, float]:
    """Per-position vote over reads of one length: text and min position confidence."""
    picks = [_position_vote(reads, i) for i in range(len(reads[0].read.text))]
    return "".join(c for c, _ in picks), min(conf for _, conf in picks)


def _heaviest(groups: dict[str, list[WeightedRead]]) -> tuple[str, list[WeightedRead]]:
    return max(groups.items(), key=lambda kv: (sum(r.weight for r in kv[1]), len(kv[1])))


def _color(reads: Sequence[WeightedRead]) -> str:
    weights: dict[str, float] = {}
    for r in reads:
        weights[r.read.color] = weights.get(r.read.color, 0.0) + r.weight
    return max(weights, key=lambda c: weights[c]) if weights else ""


def vote(reads: Sequence[WeightedRead]) -> Vote | None:
    """Vote over ``reads`` (module docstring); ``None`` when no read is a valid plate."""
    valid = [r for r in reads if is_valid(r.read.text)]
    if not valid:
        return None
    by_length: dict[str, list[WeightedRead]] = {}
    for r in valid:
        by_length.setdefault(str(len(r.read.text)), []).append(r)
    _, group = _heaviest(by_length)
    text, position_conf = _vote_group(group)
    if not is_valid(text):
        by_format: dict[str, list[WeightedRead]] = {}
        for r in group:
            by_format.setdefault(classify(r.read.text) or "", []).append(r)
        _, group = _heaviest(by_format)
        text, position_conf = _vote_group(group)
    total = sum(r.weight for r in valid)
    share = sum(r.weight for r in group) / total if total > 0 else 0.0
    agreeing = [r for r in group if r.read.text == text]
    best = max(agreeing or group, key=lambda r: r.weight)
    return Vote(text, _color(group), share * position_conf, len(agreeing), best)


class PlateConsensus:
    """Per-camera vote over plate reads, keyed by track id (module docstring)."""

    def __init__(self, camera_id: str, options: ConsensusOptions | None = None) -> None:
        self.camera_id = camera_id
        self.options = options or ConsensusOptions()
        self._passes: OrderedDict[int, _Pass] = OrderedDict()
        self._closed: OrderedDict[int, None] = OrderedDict()
        self._owner: dict[int, int] = {}
        """Track id → the pass (keyed by its first track id) it was merged into."""
        self.ignored = 0
        """Reads refused because their track was already finished."""

    @property
    def active_count(self) -> int:
        """Passes currently held (bounded by ``max_tracks``)."""
        return len(self._passes)

    def stage(self, track_id: int) -> PassStage:
        """How far ``track_id``'s pass is (see :class:`PassStage`)."""
        if track_id in self._closed:
            return PassStage.CLOSED
        found = self._passes.get(self.pass_of(track_id))
        if found is None:
            return PassStage.NEW
        return PassStage.READING if found.sighting_id is None else PassStage.EARLY

    def pass_of(self, track_id: int) -> int:
        """The key of the pass ``track_id``'s reads go to (its own id unless merged)."""
        return self._owner.get(track_id, track_id)

    def add(self, read: PlateRead, at: float) -> list[Emission]:
        """Add one read taken at ``at``; the early sighting if this read made the vote
        confident, and the final of a pass evicted to make room."""
        if read.track_id in self._closed:
            self.ignored += 1
            return []
        out: list[Emission] = []
        key = self.pass_of(read.track_id)
        current = self._passes.get(key)
        if current is None:
            if len(self._passes) >= self.options.max_tracks:
                out += self._finish(next(iter(self._passes)), at)
            current = self._passes[key] = _Pass(key, at, at, tracks={key})
        self._passes.move_to_end(key)
        current.last_seen = max(current.last_seen, at)
        current.reads.append(WeightedRead(read, at))
        if len(current.reads) > self.options.max_reads:
            current.reads.remove(min(current.reads, key=lambda r: r.weight))
        if current.sighting_id is None:
            current = self._merge_split(current, at)
        if current.sighting_id is None:
            early = self._early(current, at)
            if early is not None:
                out.append(early)
        return out

    def end(self, track_id: int, at: float) -> list[Emission]:
        """The track ended (last seen at ``at``): its pass's final sighting, if it has one
        and no other track of the pass is still running."""
        key = self._owner.pop(track_id, track_id)
        found = self._passes.get(key)
        if found is not None:
            found.last_seen = max(found.last_seen, at)
            found.tracks.discard(track_id)
            self._close(track_id)
            if found.tracks:
                return []
        return self._finish(key, at)

    def expire(self, at: float) -> list[Emission]:
        """Finals of passes read for ``max_duration`` s or not read for ``idle_after`` s."""
        opts = self.options
        due = [p.track_id for p in self._passes.values()
               if at - p.first_seen >= opts.max_duration or at - p.last_seen >= opts.idle_after]
        return [e for track_id in due for e in self._finish(track_id, at)]

    def flush(self, at: float) -> list[Emission]:
        """End of stream: the final sighting of every open pass."""
        return [e for track_id in list(self._passes) for e in self._finish(track_id, at)]

    def _merge_split(self, current: _Pass, at: float) -> _Pass:
        """``current`` (no sighting yet) merged into the open pass read within
        ``link_within`` s whose vote has the same text, if there is one (module
        docstring); the pass the reads now belong to."""
        result = vote(current.reads)
        current.text = result.text if result is not None and result.valid else ""
        if not current.text:
            return current
        twin = next((p for p in self._passes.values() if p is not current
                     and p.text == current.text
                     and at - p.last_seen <= self.options.link_within), None)
        if twin is None:
            return current
        del self._passes[current.track_id]
        twin.reads = sorted(twin.reads + current.reads, key=lambda r: r.weight,
                            reverse=True)[:self.options.max_reads]
        twin.first_seen = min(twin.first_seen, current.first_seen)
        twin.last_seen = max(twin.last_seen, current.last_seen)
        twin.tracks |= current.tracks
        for track_id in current.tracks:
            self._owner[track_id] = twin.track_id
        self._passes.move_to_end(twin.track_id)
        return twin

    def _early(self, current: _Pass, at: float) -> Emission | None:
        opts = self.options
        result = vote(current.reads)
        if result is None or not result.valid or result.confidence < opts.early_min_confidence:
            return None
        strong = any(r.read.text == result.text
                     and min(r.read.char_confidences, default=0.0) >= opts.strong_confidence
                     for r in current.reads)
        settled = result.agreeing >= 2 and at - current.first_seen >= opts.early_after
        if not (strong or settled or result.agreeing >= opts.early_reads):
            return None
        current.sighting_id = opts.new_id()
        return self._emission(current, result, final=False)

    def _finish(self, track_id: int, at: float) -> list[Emission]:
        """Close ``track_id``: its final sighting when it had an early one or its vote is
        good enough on its own."""
        found = self._passes.pop(track_id, None)
        if found is None:
            self._close(track_id)
            return []
        for member in found.tracks | {track_id}:
            self._owner.pop(member, None)
            self._close(member)
        result = vote(found.reads)
        if result is None:
            return []
        if found.sighting_id is None:
            if not result.valid or result.confidence < self.options.final_min_confidence:
                return []
            found.sighting_id = self.options.new_id()
        return [self._emission(found, result, final=True)]

    def _close(self, track_id: int) -> None:
        """Remember ``track_id`` as finished (bounded): later reads of it are ignored."""
        self._closed[track_id] = None
        if len(self._closed) > self.options.max_closed:
            self._closed.popitem(last=False)

    def _emission(self, found: _Pass, result: Vote, final: bool) -> Emission:
        plate = normalize(result.text)
        sighting = Sighting(
            sighting_id=found.sighting_id or "", camera_id=self.camera_id, plate=plate,
            plate_raw=result.best.read.text, plate_type=classify(plate) or UNKNOWN_TYPE,
            color=result.color, confidence=round(result.confidence, 4),
            first_seen=found.first_seen, last_seen=found.last_seen, final=final)
        return Emission(sighting, found.track_id, result.best.read, result.best.at)
