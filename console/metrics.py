"""Prometheus metrics with stable stage names (architecture.md, rule 12).

A custom collector reads the registry at scrape time, so a removed camera's series vanish
instead of lingering with their last value.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from console.registry import CameraRegistry
from core.messages import CameraState


class CameraCollector(Collector):
    def __init__(self, cameras: CameraRegistry) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        fps = GaugeMetricFamily("vigil_ingest_fps", "Decoded frames per second", labels=["camera"])
        state = GaugeMetricFamily("vigil_ingest_state", "1 for the camera's current state",
                                  labels=["camera", "state"])
        drops = CounterMetricFamily("vigil_ingest_frame_drops",
                                    "Frames overwritten in the latest-frame slot",
                                    labels=["camera"])
        reconnects = CounterMetricFamily("vigil_ingest_reconnects", "Reconnect attempts",
                                         labels=["camera"])
        decode = GaugeMetricFamily("vigil_ingest_decode_ms", "Decode time per frame (EWMA, ms)",
                                   labels=["camera"])
        last = GaugeMetricFamily("vigil_ingest_last_frame_timestamp_seconds",
                                 "When the last frame was decoded", labels=["camera"])
        for view in self._cameras.views():
            cid, st = view.camera.id, view.status
            current = st.state if st else CameraState.CONNECTING
            for s in CameraState:
                state.add_metric([cid, s.value], 1.0 if s == current else 0.0)
            fps.add_metric([cid], st.fps if st else 0.0)
            drops.add_metric([cid], float(st.drops) if st else 0.0)
            reconnects.add_metric([cid], float(st.reconnects) if st else 0.0)
            decode.add_metric([cid], st.decode_ms if st else 0.0)
            if st and st.last_frame_at:
                last.add_metric([cid], st.last_frame_at)
        yield from (fps, state, drops, reconnects, decode, last)


def render(cameras: CameraRegistry) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CameraCollector(cameras))
    return generate_latest(registry)
