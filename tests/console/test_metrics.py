"""Analysis metrics per camera and stage on ``/metrics`` and in ``/api/cameras``.

Statuses travel the way they do in ``vigil run`` (encoded by the wire codec, through a
bus, applied to the registry); the counters they carry are totals, so each scrape shows
them grown, never reset to a per-interval figure.
"""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from console.app import create_app
from console.identity import Principal
from console.registry import CameraRegistry
from console.tokens import TokenBook
from core import codec, topics
from core.bus import MemoryBus
from core.config.models import Camera, IngestOptions
from core.counters import FLOW
from core.messages import CameraState, CameraStatus

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def status(n: int, target: float | None) -> CameraStatus:
    """The n-th periodic status of a camera whose counters grow with n."""
    return CameraStatus(
        "gate-3", CameraState.STREAMING, since=10.0, last_frame_at=10.0 + n, drops=3 * n,
        analysed=50 * n, analysed_fps=5.5, target_fps=target, skipped=100 * n, shed=7 * n,
        shed_steps=n, keyframes_only=n > 1, keyframe_skips=48 * (n - 1), backlog_s=0.25 * n,
        stages=(("detect", 1.5 * n, 50 * n), ("plate", 0.5 * n, 20 * n)),
        publish_pending=4, worker_pid=4242)


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def cam(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"camera": "gate-3", **labels}.items()))


def test_a_status_with_every_analysis_field_crosses_the_wire_codec() -> None:
    original = status(3, 3.0)
    assert codec.decode(codec.encode(original)) == original


async def test_analysis_counters_are_exported_and_only_grow() -> None:
    registry = CameraRegistry([Camera(id="gate-3", name="Gate 3", url="rtsp://h/s",
                                      ingest=IngestOptions(max_fps=6.0))])
    bus = MemoryBus()
    app = create_app(registry, TokenBook({TOKEN: Principal("t", "admin")}), bus)
    scrapes: list[Samples] = []
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://v")
        for n, target in ((1, None), (2, 3.0)):
            await bus.publish(topics.CAMERA_STATUS, status(n, target))
            for _ in range(100):
                camera = (await client.get("/api/cameras/gate-3", headers=AUTH)).json()
                if camera["analysed"] == 50 * n:
                    break
                await asyncio.sleep(0.02)
            scrapes.append(samples((await client.get("/metrics")).text))
    first, second = scrapes
    assert second[("vigil_analysis_frames_total", cam())] == 100.0
    for reason, value in (("max_fps", 200.0), ("shed", 14.0), ("keyframes", 48.0),
                          ("overwritten", 6.0)):
        assert second[("vigil_ingest_frames_skipped_total", cam(reason=reason))] == value
    assert second[("vigil_analysis_stage_seconds_total", cam(stage="detect"))] == 3.0
    assert second[("vigil_analysis_stage_calls_total", cam(stage="plate"))] == 40.0
    assert second[("vigil_analysis_fps", cam())] == 5.5
    assert second[("vigil_analysis_target_fps", cam())] == 3.0
    assert ("vigil_analysis_target_fps", cam()) not in first  # no limit told: no series
    assert second[("vigil_analysis_backlog_seconds", cam())] == 0.5
    assert second[("vigil_analysis_shed_steps_total", cam())] == 2.0
    assert second[("vigil_publisher_queue_depth", (("process", "ingest-4242"),))] == 4.0
    counters = [k for k in second if k[0].endswith("_total")]
    assert len(counters) >= 9 and all(first[k] < second[k] for k in counters
                                      if k[0].startswith(("vigil_analysis", "vigil_ingest_fr")))
    assert camera["target_fps"] == 3.0 and camera["shedding"] is True
    assert camera["keyframes_only"] is True and camera["keyframe_skips"] == 48
    assert (camera["skipped"], camera["shed"], camera["analysed_fps"]) == (200, 14, 5.5)
    assert (camera["backlog_s"], camera["worker_pid"]) == (0.5, 4242)


async def test_publisher_depth_and_alert_lag_of_this_process() -> None:
    registry = CameraRegistry()
    app = create_app(registry, TokenBook({TOKEN: Principal("t", "admin")}))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://v")
    FLOW.publishers["test"] = lambda: 17
    FLOW.alert_lag_s, handled = 0.75, FLOW.sightings_handled
    try:
        got = samples((await client.get("/metrics")).text)
    finally:
        del FLOW.publishers["test"]
    assert got[("vigil_publisher_queue_depth", (("process", "test"),))] == 17.0
    assert got[("vigil_alert_service_lag_seconds", ())] == 0.75
    assert got[("vigil_alert_service_sightings_total", ())] == float(handled)
