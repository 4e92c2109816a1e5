"""A small monitoring centre for the browser tests: cameras with positions and states, their
live pictures, plate alerts with evidence files, and sightings for a trajectory."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from console.registry import CameraRegistry
from core.config.models import Camera, Location
from core.messages import Alert, CameraHealth, CameraState, CameraStatus, Evidence, Sighting
from tests.browser.scenes import camera_frame, plate_scene


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    group: str
    lon: float
    lat: float
    address: str
    state: CameraState = CameraState.STREAMING
    health: CameraHealth = CameraHealth.OK


_EAST_GATE = "建设路与东环路交叉口"
SITES = (
    Site("34020000001320000001", "东门卡口 进城", "东门卡口", 116.4012, 39.9087, _EAST_GATE),
    Site("34020000001320000002", "东门卡口 出城", "东门卡口", 116.4019, 39.9090, _EAST_GATE),
    Site("34020000001320000003", "人民路 中段", "主干道", 116.3935, 39.9102, "人民路 188 号"),
    Site("34020000001320000004", "人民路 西口", "主干道", 116.3861, 39.9110,
         "人民路与西环路交叉口"),
    Site("34020000001320000005", "解放街 北口", "主干道", 116.3958, 39.9161,
         "解放街与北京路交叉口", CameraState.STALLED),
    Site("34020000001320000006", "火车站 南广场", "重点区域", 116.3902, 39.9031, "站前路 1 号",
         CameraState.STREAMING, CameraHealth.FROZEN),
    Site("34020000001320000007", "体育馆 东侧", "重点区域", 116.4071, 39.9142, "体育场路 6 号",
         CameraState.BACKOFF),
    Site("34020000001320000008", "南环高架 入口", "主干道", 116.3990, 39.9010, "南环路 K3+200"),
)


def registry() -> CameraRegistry:
    cams = [Camera(id=s.id, name=s.name, group=s.group, url=f"rtsp://127.0.0.1:8554/{s.id}",
                   location=Location(lon=s.lon, lat=s.lat, address=s.address)) for s in SITES]
    reg = CameraRegistry(cams)
    now = time.time()
    for s in SITES:
        live = s.state == CameraState.STREAMING
        reg.apply(shedding(s, CameraStatus(s.id, s.state, now - 3600, "", 12.5 if live else 0.0,
                                           s.health, now if live else now - 90)))
    return reg


SHED = SITES[2]
"""The camera load shedding holds at keyframes only (ingest/shedding.py)."""


def shedding(site: Site, status: CameraStatus) -> CameraStatus:
    """Analysis figures of a status: 6 fps analysed when streaming, and one camera shed."""
    if site.state != CameraState.STREAMING:
        return status
    if site is SHED:
        return replace(status, analysed_fps=0.5, target_fps=2.0, shed=480, shed_steps=3,
                       keyframes_only=True, keyframe_skips=2400)
    return replace(status, analysed_fps=6.0)


def china_time(at: float) -> str:
    """What a camera burns into its picture: Beijing time, whatever the test machine's zone."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at + 8 * 3600))


def write_live_pictures(live_dir: Path, seed: int = 0) -> None:
    """One ``<camera_id>.jpg`` per camera that has a picture (not the one in backoff)."""
    when = china_time(time.time())
    for i, s in enumerate(SITES):
        if s.state == CameraState.BACKOFF:
            continue
        data = camera_frame(s.name, when, seed=i * 7 + 1 + seed, night=i % 3 == 2)
        tmp = live_dir / f".{s.id}.jpg"
        tmp.write_bytes(data)
        tmp.replace(live_dir / f"{s.id}.jpg")


CATEGORY_ZH = {"stolen": "盗抢车辆", "wanted": "在逃人员关联车辆", "key_vehicle": "重点管控车辆",
               "cloned_suspect": "疑似套牌车辆", "custom": "关注车辆"}
CATEGORY_EN = {"stolen": "stolen vehicle", "wanted": "vehicle linked to a wanted person",
               "key_vehicle": "key vehicle", "cloned_suspect": "suspected cloned plate",
               "custom": "vehicle of interest"}


def plate_alert(evidence_dir: Path, plate: str, level: int, category: str = "stolen",
                site: Site = SITES[0], raised_at: float | None = None,
                entry_id: str | None = None) -> Alert:
    """A watchlist hit as the rule engine raises it, with snapshot and plate crop on disk."""
    at = time.time() if raised_at is None else raised_at
    alert_id = str(uuid.uuid4())
    scene = plate_scene(plate, site.name, china_time(at), seed=level)
    (evidence_dir / "snap").mkdir(exist_ok=True)
    (evidence_dir / "plate").mkdir(exist_ok=True)
    (evidence_dir / "snap" / f"{alert_id}.jpg").write_bytes(scene.jpeg)
    (evidence_dir / "plate" / f"{alert_id}.jpg").write_bytes(scene.plate_jpeg)
    evidence = Evidence(snapshot=f"snap/{alert_id}.jpg", plate_crop=f"plate/{alert_id}.jpg",
                        box=scene.car_box)
    sighting = Sighting(f"s-{alert_id}", site.id, plate, plate, "ordinary_7", "blue", 0.97,
                        at - 1.0, at, evidence)
    return Alert(
        alert_id=alert_id, rule_id="watchlist-hit", level=level, category=category,
        observation=sighting, raised_at=at, subject=plate,
        summary_zh=f"布控{CATEGORY_ZH.get(category, category)} {plate} 经过 {site.name}",
        summary_en=f"Watchlisted {CATEGORY_EN.get(category, category)} {plate} "
                   f"passed {site.name}",
        camera_id=site.id, camera_name=site.name, address=site.address, lon=site.lon,
        lat=site.lat, watchlist_entry_id=entry_id,
    )


def route_sightings(plate: str, start: float) -> list[Sighting]:
    """A drive across town: one sighting every few minutes at five cameras."""
    path = (SITES[3], SITES[2], SITES[4], SITES[0], SITES[7])
    return [Sighting(f"trip-{i}-{plate}", s.id, plate, plate, "ordinary_7", "blue", 0.95,
                     start + i * 240.0, start + i * 240.0 + 2.0)
            for i, s in enumerate(path)]
