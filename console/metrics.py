"""Prometheus metrics with stable stage names (docs/architecture.md, rule 12).

A custom collector reads the registry at scrape time, so a removed camera's series vanish
instead of lingering with their last value.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from console.hub import WsStats
from console.registry import CameraRegistry
from core.counters import DISPATCH, FLOW, DispatchStats, FlowStats
from core.messages import CameraState
from core.retention import RETENTION, RetentionStats
from core.supervise import STATS, SupervisionStats

Family = GaugeMetricFamily | CounterMetricFamily


class CameraCollector(Collector):
    """Ingest per camera, from the newest status each camera's worker published."""

    def __init__(self, cameras: CameraRegistry) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[Family]:
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
        lag = GaugeMetricFamily("vigil_ingest_lag_seconds", "Seconds of a live stream "
                                "received but not yet read by the decoder", labels=["camera"])
        for view in self._cameras.views():
            cid, st = view.camera.id, view.status
            current = st.state if st else CameraState.CONNECTING
            for s in CameraState:
                state.add_metric([cid, s.value], 1.0 if s == current else 0.0)
            fps.add_metric([cid], st.fps if st else 0.0)
            drops.add_metric([cid], float(st.drops) if st else 0.0)
            reconnects.add_metric([cid], float(st.reconnects) if st else 0.0)
            decode.add_metric([cid], st.decode_ms if st else 0.0)
            lag.add_metric([cid], st.lag_s if st else 0.0)
            if st and st.last_frame_at:
                last.add_metric([cid], st.last_frame_at)
        yield from (fps, state, drops, reconnects, decode, last, lag)


class AnalysisCollector(Collector):
    """Analysis per camera and stage, and load shedding (ingest/shedding.py). Counters are
    totals carried in the camera statuses, so they only grow (a worker process restart
    starts them again from 0, which Prometheus' ``rate()`` treats as a reset)."""

    def __init__(self, cameras: CameraRegistry) -> None:
        self._cameras = cameras

    def collect(self) -> Iterator[Family]:
        cam, stage, reason = ["camera"], ["camera", "stage"], ["camera", "reason"]
        frames = CounterMetricFamily("vigil_analysis_frames", "Frames analysed", labels=cam)
        skipped = CounterMetricFamily(
            "vigil_ingest_frames_skipped", "Decoded frames not analysed, by reason: max_fps, "
            "shed (load shedding), keyframes (left undecoded while load shedding has the camera "
            "decode keyframes only), overwritten (slot overwritten before it was taken)",
            labels=reason)
        fps = GaugeMetricFamily("vigil_analysis_fps", "Frames analysed per second, last 5 s",
                                labels=cam)
        target = GaugeMetricFamily("vigil_analysis_target_fps", "Rate the camera may be "
                                   "analysed at now (lower while shedding)", labels=cam)
        steps = CounterMetricFamily("vigil_analysis_shed_steps",
                                    "Times load shedding lowered the camera's rate", labels=cam)
        seconds = CounterMetricFamily("vigil_analysis_stage_seconds",
                                      "Wall time spent per pipeline stage", labels=stage)
        calls = CounterMetricFamily("vigil_analysis_stage_calls",
                                    "Analysed frames the stage ran in", labels=stage)
        backlog = GaugeMetricFamily("vigil_analysis_backlog_seconds", "Seconds from capture "
                                    "to analysis of the newest analysed frame", labels=cam)
        for view in self._cameras.views():
            cid, st = view.camera.id, view.status
            if st is None:
                continue
            frames.add_metric([cid], float(st.analysed))
            for why, count in (("max_fps", st.skipped), ("shed", st.shed),
                               ("keyframes", st.keyframe_skips), ("overwritten", st.drops)):
                skipped.add_metric([cid, why], float(count))
            fps.add_metric([cid], st.analysed_fps)
            if st.target_fps is not None:
                target.add_metric([cid], st.target_fps)
            steps.add_metric([cid], float(st.shed_steps))
            for name, spent, count in st.stages:
                seconds.add_metric([cid, name], spent)
                calls.add_metric([cid, name], float(count))
            backlog.add_metric([cid], st.backlog_s)
        yield from (frames, skipped, fps, target, steps, seconds, calls, backlog)


class FlowCollector(Collector):
    """Queues between stages: bus publisher depth per process (this one's from
    :data:`core.counters.FLOW`, worker processes' from their cameras' statuses) and the
    alert service's lag."""

    def __init__(self, cameras: CameraRegistry, flow: FlowStats) -> None:
        self._cameras, self._flow = cameras, flow

    def collect(self) -> Iterator[Family]:
        depth = GaugeMetricFamily("vigil_publisher_queue_depth",
                                  "Messages waiting in a bus publisher, by process",
                                  labels=["process"])
        for name, reader in sorted(self._flow.publishers.items()):
            depth.add_metric([name], float(reader()))
        newest: dict[int, tuple[float, int]] = {}
        for view in self._cameras.views():
            st = view.status
            if st is not None and st.worker_pid:
                at = st.last_frame_at or st.since
                if st.worker_pid not in newest or newest[st.worker_pid][0] < at:
                    newest[st.worker_pid] = (at, st.publish_pending)
        for pid, (_, pending) in sorted(newest.items()):
            depth.add_metric([f"ingest-{pid}"], float(pending))
        yield depth
        if self._flow.alert_lag_s is not None:
            yield GaugeMetricFamily("vigil_alert_service_lag_seconds", "Age of the newest "
                                    "sighting when the alert service handled it",
                                    value=self._flow.alert_lag_s)
        yield CounterMetricFamily("vigil_alert_service_sightings",
                                  "Sightings the alert service handled",
                                  value=self._flow.sightings_handled)


class WsCollector(Collector):
    """The WebSocket hub: clients now, frames sent, replayed, clients dropped as too slow."""

    def __init__(self, stats: WsStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        st = self._stats
        yield GaugeMetricFamily("vigil_console_ws_clients", "Connected WebSocket clients",
                                value=st.clients)
        yield CounterMetricFamily("vigil_console_ws_connections",
                                  "WebSocket clients accepted", value=st.connections)
        yield CounterMetricFamily("vigil_console_ws_sent", "WebSocket frames sent",
                                  value=st.sent)
        yield CounterMetricFamily("vigil_console_ws_messages",
                                  "WebSocket messages written (a batch counts once)",
                                  value=st.messages)
        yield CounterMetricFamily("vigil_console_ws_replayed",
                                  "Events sent from the event log (resume or catch-up)",
                                  value=st.replayed)
        yield CounterMetricFamily("vigil_console_ws_dropped_clients",
                                  "Clients disconnected because their queue stayed full",
                                  value=st.dropped_clients)
        yield GaugeMetricFamily("vigil_console_ws_last_event_id",
                                "Newest alert event id the hub has fanned out",
                                value=st.last_id)


class SupervisionCollector(Collector):
    """Long-running tasks (core/supervise.py, core/consume.py): failed messages or steps,
    messages parked as dead letters, and restarts of tasks that died."""

    def __init__(self, stats: SupervisionStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        st = self._stats
        families = (
            ("vigil_consumer_errors", "Messages or steps that raised, by task", "task",
             st.errors),
            ("vigil_dead_letters", "Bus messages given up on and parked, by topic", "topic",
             st.dead_letters),
            ("vigil_task_restarts", "Supervised tasks restarted after dying, by task", "task",
             st.restarts),
        )
        for name, doc, label, counts in families:
            family = CounterMetricFamily(name, doc, labels=[label])
            for key, value in sorted(counts.items()):
                family.add_metric([key], float(value))
            yield family


class RetentionCollector(Collector):
    """Evidence disk use as measured by the last retention round (core/retention.py), and
    what retention deleted since start, by kind (why it went)."""

    def __init__(self, stats: RetentionStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        st = self._stats
        yield GaugeMetricFamily("vigil_evidence_bytes", "Bytes under evidence_dir (last round)",
                                value=st.evidence_bytes)
        yield GaugeMetricFamily("vigil_evidence_files", "Files under evidence_dir (last round)",
                                value=st.evidence_files)
        yield GaugeMetricFamily("vigil_evidence_quota_bytes",
                                "retention.max_evidence_gb in bytes; 0 = no quota",
                                value=st.quota_bytes)
        purged = CounterMetricFamily("vigil_purged", "Deleted by retention, by kind "
                                     "(sighting_rows are rows, the others files)",
                                     labels=["kind"])
        for kind, count in sorted(st.purged.items()):
            purged.add_metric([kind], float(count))
        yield purged
        yield CounterMetricFamily("vigil_evidence_quota_unmet",
                                  "Retention rounds that could not meet the quota without "
                                  "deleting evidence of open alerts", value=st.quota_unmet)


class DispatchCollector(Collector):
    """110 dispatch (alerts/dispatch.py): settled attempts by target and result, and the
    dead letters waiting for a person now (read from the store at scrape time, so every
    console of a deployment shows the same figure)."""

    def __init__(self, stats: DispatchStats, dead_letters: int | None) -> None:
        self._stats, self._dead = stats, dead_letters

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        family = CounterMetricFamily("vigil_dispatch_deliveries",
                                     "Dispatch attempts settled, by target and result "
                                     "(delivered, retried, dead)", labels=["target", "result"])
        for (target, result), value in sorted(self._stats.deliveries.items()):
            family.add_metric([target, result], float(value))
        yield family
        if self._dead is not None:
            yield GaugeMetricFamily("vigil_dispatch_dead_letters",
                                    "Dispatch deliveries given up on, waiting for a retry",
                                    value=float(self._dead))


def ingest_registry(cameras: CameraRegistry) -> CollectorRegistry:
    """What a process that ingests and analyses exports: cameras, analysis, its queues,
    its supervised tasks. A cluster worker (``vigil run --role worker``) serves exactly
    this on its own /metrics; a console adds the alert side in :func:`render`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CameraCollector(cameras))
    registry.register(AnalysisCollector(cameras))
    registry.register(FlowCollector(cameras, FLOW))
    registry.register(SupervisionCollector(STATS))
    return registry


def render(cameras: CameraRegistry, ws: WsStats | None = None,
           dead_letters: int | None = None) -> bytes:
    """The exposition text. ``dead_letters`` is the store's count (None: no store)."""
    registry = ingest_registry(cameras)
    registry.register(DispatchCollector(DISPATCH, dead_letters))
    registry.register(RetentionCollector(RETENTION))
    if ws is not None:
        registry.register(WsCollector(ws))
    return generate_latest(registry)
