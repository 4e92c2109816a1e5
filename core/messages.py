"""The closed set of messages that stages exchange (docs/architecture.md, rule 1).

Every message is a frozen, slotted dataclass. ``Frame`` carries pixels and never leaves the
process that decoded it; every other message is small and crosses processes through
:mod:`core.codec`. Times are POSIX seconds (float, UTC) taken from the event, never "now".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]
"""Pixel box ``(x1, y1, x2, y2)`` in the frame it was found in."""


class CameraState(enum.StrEnum):
    """Camera worker lifecycle (docs/architecture.md, rule 8)."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    STALLED = "stalled"
    BACKOFF = "backoff"
    STOPPED = "stopped"
    DISABLED = "disabled"


class CameraHealth(enum.StrEnum):
    """Picture health while streaming; independent of the connection state."""

    OK = "ok"
    FROZEN = "frozen"
    BLACK = "black"
    BLANK = "blank"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"


class AlertState(enum.StrEnum):
    """Alert workflow: 预警 → 签收 → 处置 → 反馈 → closed (docs/integration.md §5)."""

    NEW = "new"
    SIGNED = "signed"
    DISPOSING = "disposing"
    FEEDBACK = "feedback"
    CLOSED = "closed"
    DISMISSED = "dismissed"


class SceneKind(enum.StrEnum):
    """What a :class:`SceneEvent` reports (rules name these in ``events:``)."""

    INTRUSION = "intrusion"
    LINE_CROSS = "line_cross"
    LOITERING = "loitering"
    CROWD = "crowd"
    TAMPER = "tamper"


class TransitionKind(enum.StrEnum):
    """What an :class:`AlertTransition` (one timeline entry) records (docs/alerts.md)."""

    RAISED = "raised"
    """The alert's first entry (written by the store with the alert)."""
    TRANSITION = "transition"
    """A state change (core/lifecycle.py)."""
    ESCALATION = "escalation"
    """An SLA deadline passed; ``to_state`` is the unchanged current state."""
    DISPATCH = "dispatch"
    """A 110 delivery outcome or status callback."""
    REASSIGN = "reassign"
    """The holder changed: one alert given to someone else."""
    HANDOVER = "handover"
    """The holder changed as part of handing a whole shift over."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture. In-process only: the codec refuses it."""

    camera_id: str
    seq: int
    captured_at: float
    image: npt.NDArray[np.uint8] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Detection:
    label: str
    score: float
    box: Box


@dataclass(frozen=True, slots=True)
class Track:
    track_id: int
    camera_id: str
    label: str
    box: Box
    first_seen: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class PlateRead:
    track_id: int
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    color: str
    frame_seq: int
    box: Box


@dataclass(frozen=True, slots=True)
class Evidence:
    """References to evidence kept elsewhere (never the bytes themselves).

    ``clip_from``/``clip_to`` are event times the ingest packet ring can cut a clip between.
    """

    snapshot: str | None = None
    plate_crop: str | None = None
    clip_from: float | None = None
    clip_to: float | None = None
    frame_seq: int | None = None
    box: Box | None = None
    clip: str | None = None
    """Where the clip between ``clip_from`` and ``clip_to`` is (or will be) written."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One vehicle pass with its voted plate. ``final`` is False for the early emission."""

    sighting_id: str
    camera_id: str
    plate: str
    plate_raw: str
    plate_type: str
    color: str
    confidence: float
    first_seen: float
    last_seen: float
    evidence: Evidence = Evidence()
    final: bool = True


@dataclass(frozen=True, slots=True)
class SceneEvent:
    """Something happened in a scene (``kind``: a :class:`SceneKind`)."""

    event_id: str
    camera_id: str
    kind: SceneKind
    zone: str | None
    track_ids: tuple[int, ...]
    at: float
    evidence: Evidence = Evidence()
    detail: str = ""
    label: str = ""
    """Object class that caused the event (person, car ...); empty for tamper."""
    direction: str = ""
    """Line crossings: a_to_b or b_to_a; empty otherwise."""


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """Published on every change of a camera's state or health."""

    camera_id: str
    state: CameraState
    since: float
    detail: str = ""
    fps: float = 0.0
    health: CameraHealth = CameraHealth.UNKNOWN
    last_frame_at: float | None = None
    reconnects: int = 0
    drops: int = 0
    """Frames overwritten in the latest-frame slot before analysis took them (a total)."""
    decode_ms: float = 0.0
    analysed: int = 0
    """Frames the analytics pipeline analysed (a total, like every count below)."""
    analysed_fps: float = 0.0
    target_fps: float | None = None
    """The rate the camera may be analysed at now: lower than ``max_fps`` while load
    shedding; None when neither limits it."""
    skipped: int = 0
    """Decoded frames not delivered because of ``max_fps``."""
    shed: int = 0
    """Frames refused by load shedding (ingest/shedding.py)."""
    shed_steps: int = 0
    """Times load shedding lowered the camera's rate."""
    keyframes_only: bool = False
    """True while load shedding has the camera decode keyframes only."""
    keyframe_skips: int = 0
    """Frames left undecoded by keyframes-only shedding (a total)."""
    backlog_s: float = 0.0
    """Seconds from capture to analysis of the frame being (or last) analysed."""
    stages: tuple[tuple[str, float, int], ...] = ()
    """``(stage, seconds, calls)`` totals of the analytics pipeline's stages."""
    publish_pending: int = 0
    """Messages waiting in the bus publisher of the camera's worker process."""
    worker_pid: int = 0
    """The process that decodes and analyses the camera (0: unknown)."""
    lag_s: float = 0.0
    """Seconds of a live stream received but not yet read by the decoder (0 for files)."""


Observation = Sighting | SceneEvent | CameraStatus
"""What the rule engine evaluates."""


@dataclass(frozen=True, slots=True)
class Alert:
    """A raised alert. It is persisted before anyone is told about it."""

    alert_id: str
    rule_id: str
    level: int
    category: str
    observation: Observation
    raised_at: float
    state: AlertState = AlertState.NEW
    summary_zh: str = ""
    summary_en: str = ""
    subject: str = ""
    camera_id: str = ""
    camera_name: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = "WGS84"
    watchlist_entry_id: str | None = None
    review_only: bool = False
    """True for alerts a person must confirm first (cloned plates): never auto-dispatched."""


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """One step in an alert's timeline: a state change, an escalation, a dispatch update or
    a change of holder (``kind``: a :class:`TransitionKind`)."""

    alert_id: str
    kind: TransitionKind
    from_state: AlertState
    to_state: AlertState
    by: str
    at: float
    note: str = ""


WireMessage = (
    Detection | Track | PlateRead | Sighting | SceneEvent | CameraStatus | Alert | AlertTransition
)

WIRE_TYPES: dict[str, type[WireMessage]] = {
    "detection": Detection,
    "track": Track,
    "plate_read": PlateRead,
    "sighting": Sighting,
    "event": SceneEvent,
    "camera_status": CameraStatus,
    "alert": Alert,
    "alert_transition": AlertTransition,
}
"""Messages that may cross a process, by their wire name. ``Frame`` is deliberately absent."""
