"""What the console knows about cameras: their configuration joined with the latest status.

Statuses arrive from the bus (any node may publish them); configuration comes from the
config loader and is replaced whole on hot reload. The API and the metrics read from here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from core.config.models import Camera
from core.gbid import parse_gb_id
from core.messages import CameraHealth, CameraState, CameraStatus
from core.redact import redact_url


@dataclass(frozen=True, slots=True)
class CameraView:
    camera: Camera
    status: CameraStatus | None

    def as_json(self) -> dict[str, Any]:
        """The API shape of one camera; URLs are always redacted."""
        cam, st = self.camera, self.status
        gb = parse_gb_id(cam.id)
        return {
            "id": cam.id,
            "name": cam.name,
            "group": cam.group,
            "enabled": cam.enabled,
            "state": st.state.value if st else (
                CameraState.DISABLED if not cam.enabled else CameraState.CONNECTING).value,
            "since": st.since if st else None,
            "fps": round(st.fps, 2) if st else 0.0,
            "last_frame_at": st.last_frame_at if st else None,
            "detail": st.detail if st else "no status yet",
            "health": (st.health if st else CameraHealth.UNKNOWN).value,
            "reconnects": st.reconnects if st else 0,
            "drops": st.drops if st else 0,
            "decode_ms": round(st.decode_ms, 3) if st else 0.0,
            "analysed": st.analysed if st else 0,
            "analysed_fps": round(st.analysed_fps, 2) if st else 0.0,
            "target_fps": st.target_fps if st else cam.ingest.max_fps,
            "skipped": st.skipped if st else 0,
            "shed": st.shed if st else 0,
            "keyframes_only": bool(st and st.keyframes_only),
            "keyframe_skips": st.keyframe_skips if st else 0,
            "shedding": bool(st and st.target_fps is not None
                             and st.target_fps < (cam.ingest.max_fps or float("inf"))),
            "backlog_s": round(st.backlog_s, 3) if st else 0.0,
            "lag_s": round(st.lag_s, 3) if st else 0.0,
            "worker_pid": st.worker_pid if st else 0,
            "url": redact_url(cam.url),
            "evidence_url": redact_url(cam.evidence_url) if cam.evidence_url else None,
            "location": cam.location.model_dump() if cam.location else None,
            "gb28181": None if gb is None else {
                "centre": gb.centre, "industry": gb.industry, "industry_name": gb.industry_name,
                "type": gb.type, "type_name": gb.type_name, "network": gb.network,
                "network_name": gb.network_name, "serial": gb.serial,
            },
        }


class CameraRegistry:
    """Thread-safe: statuses may be applied from the bus task, config from the watcher."""

    def __init__(self, cameras: list[Camera] | tuple[Camera, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._cameras: dict[str, Camera] = {c.id: c for c in cameras}
        self._status: dict[str, CameraStatus] = {}

    def set_cameras(self, cameras: list[Camera] | tuple[Camera, ...]) -> None:
        with self._lock:
            self._cameras = {c.id: c for c in cameras}
            self._status = {k: v for k, v in self._status.items() if k in self._cameras}

    def apply(self, status: CameraStatus) -> None:
        """Keep the newest status per camera; statuses of unknown cameras are ignored."""
        with self._lock:
            if status.camera_id not in self._cameras:
                return
            old = self._status.get(status.camera_id)
            if old is None or (status.since, status.last_frame_at or 0.0) >= (
                    old.since, old.last_frame_at or 0.0):
                self._status[status.camera_id] = status

    def views(self) -> list[CameraView]:
        with self._lock:
            return [CameraView(c, self._status.get(i)) for i, c in sorted(self._cameras.items())]

    def view(self, camera_id: str) -> CameraView | None:
        with self._lock:
            cam = self._cameras.get(camera_id)
            return None if cam is None else CameraView(cam, self._status.get(camera_id))
