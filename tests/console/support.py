"""Building blocks for the console tests: a real store, a real app, tokens for each role,
the real watchlist service and a signature-checking dispatch port."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import FastAPI

from alerts.watchlist_service import WatchlistService
from console.app import create_app
from console.deps import ConsoleDeps
from console.identity import Principal
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from console.users import create_api_token
from core.bus import MemoryBus
from core.clock import FakeClock
from core.config.models import Camera, Location
from core.errors import AuthenticationError, RequestError
from core.messages import Alert, AlertState, AlertTransition, Evidence, Sighting, TransitionKind
from core.ports import CallbackReceipt
from core.store import NotFoundError, Store, open_store

BOOTSTRAP = "bootstrap-secret"
ROLES = ("monitor", "dispatcher", "supervisor", "admin")
CALLBACK_SECRET = b"dispatch-secret"


def cameras() -> list[Camera]:
    return [
        Camera(id="34020000001320000001", name="人民路与建设路口", group="skynet",
               url="rtsp://admin:secret@10.0.0.5:554/sub",
               location=Location(lon=106.38, lat=39.02, address="大武口区人民路")),
        Camera(id="gate-3", name="Gate 3", url="rtsp://127.0.0.1:8554/gate3",
               location=Location(lon=106.40, lat=39.05, crs="GCJ02", address="三号门")),
    ]


def sighting(n: int, plate: str = "京A12345", at: float = 1_700_000_000.0,
             camera: str = "gate-3") -> Sighting:
    return Sighting(
        sighting_id=f"s-{n}", camera_id=camera, plate=plate, plate_raw=plate,
        plate_type="small", color="blue", confidence=0.93, first_seen=at, last_seen=at + 1.5,
        evidence=Evidence(snapshot=f"snap/{n}.jpg", plate_crop=f"plate/{n}.jpg",
                          clip_from=at - 5.0, clip_to=at + 5.0, frame_seq=7,
                          box=(1.0, 2.0, 30.0, 40.0), clip=f"clips/{n}.mp4"),
    )


def make_alert(n: int, level: int = 2, at: float = 1_700_000_000.0,
               camera: str = "gate-3") -> Alert:
    return Alert(
        alert_id=str(uuid.UUID(int=n + 1)), rule_id="watchlist", level=level,
        category="stolen", observation=sighting(n, at=at, camera=camera), raised_at=at,
        subject="京A12345", camera_id=camera, camera_name="Gate 3", address="三号门",
        lon=106.4, lat=39.05, crs="GCJ02", summary_zh=f"布控车辆 {n}", summary_en=f"watch {n}",
        watchlist_entry_id="w-1",
    )


def sign_body(body: bytes, webhook_id: str = "wh-1", timestamp: str = "1700000000") -> dict[
        str, str]:
    mac = hmac.new(CALLBACK_SECRET, f"{webhook_id}.{timestamp}.".encode() + body,
                   hashlib.sha256).digest()
    return {"webhook-id": webhook_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode()}


@dataclass
class FakeDispatch:
    """A DispatchPort that checks a Standard Webhooks signature and files the status update
    into the alert's timeline, as the real one does."""

    store: Store
    calls: list[str] = field(default_factory=list)

    def callback(self, headers: Mapping[str, str], body: bytes) -> CallbackReceipt:
        expected = sign_body(body, headers.get("webhook-id", ""),
                             headers.get("webhook-timestamp", ""))["webhook-signature"]
        if not hmac.compare_digest(expected, headers.get("webhook-signature", "")):
            raise AuthenticationError("bad webhook signature")
        try:
            data = json.loads(body)
            alert_id, status = str(data["alert_id"]), str(data["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RequestError([("body", f"not a status update: {exc}")]) from exc
        record = self.store.get_alert(alert_id)
        if record is None:
            raise NotFoundError(f"alert {alert_id}")
        state: AlertState = record.alert.state
        self.store.append_event(AlertTransition(alert_id, TransitionKind.DISPATCH, state, state,
                                                "110", self.store.clock.now(), status))
        self.calls.append(alert_id)
        return CallbackReceipt(alert_id)


@dataclass
class Rig:
    app: FastAPI
    store: Store
    clock: FakeClock
    bus: MemoryBus
    registry: CameraRegistry
    tokens: dict[str, str]
    dispatch: FakeDispatch

    def client(self, base_url: str = "http://vigil") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base_url)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_rig(tmp_path: Path, store_url: str | None = None,
              settings: ConsoleSettings | None = None) -> Rig:
    clock = FakeClock(start=1_700_000_100.0)
    store = open_store(store_url or f"sqlite:///{tmp_path / 'vigil.db'}", clock)
    registry = CameraRegistry(cameras())
    bus = MemoryBus()
    tokens = {role: create_api_token(store, f"t-{role}", role, "test")[0] for role in ROLES}
    tokens["bootstrap"] = BOOTSTRAP
    dispatch = FakeDispatch(store)
    settings = settings or ConsoleSettings(live_dir=tmp_path / "live",
                                           evidence_dir=tmp_path / "evidence")
    deps = ConsoleDeps(store=store, watchlists=WatchlistService(store, None, clock),
                       dispatch=dispatch, clock=clock, settings=settings)
    book = TokenBook({BOOTSTRAP: Principal("bootstrap", "admin")})
    app = create_app(registry, book, bus, deps)
    return Rig(app, store, clock, bus, registry, tokens, dispatch)
