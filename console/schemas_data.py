"""Response (and a few request) models for cameras, watchlists, sightings and statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from console.mirror import Mirror, mirror
from console.schemas import In, Out
from core.messages import Evidence, Sighting
from core.store.records import WatchlistRow

Cell = Annotated[str, StringConstraints(max_length=2000)]


class CameraOut(Mirror):
    id: str
    name: str
    group: str
    enabled: bool
    state: str
    since: float | None
    fps: float
    last_frame_at: float | None
    detail: str
    health: str
    reconnects: int
    drops: int
    decode_ms: float
    analysed: int = Field(description="frames analysed (total)")
    analysed_fps: float = Field(description="frames analysed per second, last 5 s")
    target_fps: float | None = Field(
        description="rate the camera may be analysed at now; below max_fps while shedding")
    skipped: int = Field(description="frames not analysed because of max_fps (total)")
    shed: int = Field(description="frames not analysed because of load shedding (total)")
    shedding: bool = Field(description="load shedding holds the camera below its max_fps")
    backlog_s: float = Field(description="seconds from capture to analysis, newest frame")
    lag_s: float = Field(description="seconds of live stream received, not yet decoded")
    worker_pid: int = Field(description="process decoding and analysing it (0: unknown)")
    url: str
    evidence_url: str | None
    location: dict[str, Any] | None
    gb28181: dict[str, Any] | None


if TYPE_CHECKING:
    class WatchlistOut(Mirror):
        """core.store.records.WatchlistRow without ``entry`` (console/mirror.py)."""
else:
    # scope is the entry's JSON (core.store.records.JsonValue: recursive, no pydantic name)
    WatchlistOut = mirror(WatchlistRow, "WatchlistOut", drop=("entry",),
                          types={"scope": Any})


class WatchlistPage(Out):
    items: list[WatchlistOut]
    limit: int
    offset: int
    total: int = Field(description="entries matching the filter, on every page")
    has_more: bool


class DeployIn(In):
    """布控: the watchlist CSV columns (times as in the CSV: ISO 8601 or
    ``YYYY-MM-DD HH:MM[:SS]`` China time). Give ``plate`` or ``pattern``."""

    plate: Cell | None = None
    pattern: Cell | None = None
    category: Cell | None = None
    level: int | None = Field(None, ge=1, le=4)
    reason: Cell | None = None
    unit: Cell | None = None
    applicant: Cell | None = None
    valid_from: Cell | None = None
    valid_until: Cell | None = None
    scope: Cell | None = None
    strictness: Cell | None = None
    requires_approval: bool | None = None

    def cells(self) -> dict[str, str]:
        """The given fields as CSV cells (what :class:`core.ports.WatchlistPort` takes)."""
        out: dict[str, str] = {}
        for key, value in self.model_dump(exclude_none=True).items():
            out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out


class WithdrawIn(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=2000)]


class ImportOut(Out):
    imported: int
    entries: list[WatchlistOut] = Field(description="the first 100 imported entries")


if TYPE_CHECKING:
    class EvidenceOut(Mirror):
        """core.messages.Evidence (console/mirror.py)."""

    class SightingOut(Mirror):
        """core.messages.Sighting (console/mirror.py)."""
else:
    EvidenceOut = mirror(Evidence, "EvidenceOut")
    SightingOut = mirror(Sighting, "SightingOut", types={"evidence": EvidenceOut})


class CameraPlace(Out):
    camera_id: str
    name: str
    lon: float | None
    lat: float | None
    crs: str | None
    address: str


class TrajectoryPoint(Out):
    sighting: SightingOut
    camera: CameraPlace


class TrajectoryOut(Out):
    plate: str
    since: float
    until: float
    points: list[TrajectoryPoint]
    cameras: dict[str, CameraPlace] = Field(description="every camera on the path, by id")


class SlaShare(Out):
    due_s: float
    due: int = Field(description="alerts whose deadline has passed or that were handled")
    met: int
    share: float | None = Field(description="met / due, null when nothing is due")


class AlertCounts(Out):
    total: int
    by_level: dict[str, int]
    by_state: dict[str, int]


class EvidenceUse(Out):
    bytes: int = Field(description="bytes under evidence_dir at the last retention round")
    files: int
    quota_bytes: int = Field(description="retention.max_evidence_gb in bytes; 0 = no quota")
    measured_at: float | None = Field(description="when; null before the first round")
    quota_unmet: int = Field(description="rounds that could not meet the quota (open alerts)")


class StatsOut(Out):
    day_start: float
    now: float
    timezone: str
    alerts: AlertCounts
    sla: dict[str, SlaShare] = Field(description="`sign` and `feedback`")
    cameras: dict[str, int] = Field(description="cameras by state")
    evidence: EvidenceUse = Field(description="evidence disk use (docs/alerts.md, retention)")
