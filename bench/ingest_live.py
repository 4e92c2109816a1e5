"""What ingest alone costs per live camera: N real RTSP streams through the real
:class:`ingest.worker.CameraWorker` in this one process, every delivered frame taken from the
slot and dropped (analysis that costs nothing), CPU split by thread kind.

    .venv/bin/python bench/ingest_live.py [--cameras 8] [--seconds 60] [--max-fps 6]

The streams are bench/capacity.py's (tests/ingest/rtsp_server.py on loopback, one mount per
camera, bench/capacity_clip.py's 704x576 25 fps loop). The figure ``bench/decode_cost.py``
gives (decoding alone, from a file) is the floor; what this bench adds on top of it is what
a live camera costs besides decoding: demuxing from the socket, FFmpeg's interrupt callback,
the evidence packet ring, the lag gauge, BGR conversion at ``max_fps``, the health sample,
the shedding gate and the control thread's ticks. Prints cores per camera for the decode
(session) threads, the control threads, the consumer threads and the whole process
(utime + stime from /proc), and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import capacity_clip as clip  # noqa: E402
from bench.capacity_node import RtspServer, camera_id, stat_cpu_seconds  # noqa: E402
from core.config.models import Camera, IngestOptions  # noqa: E402
from core.messages import CameraState, CameraStatus  # noqa: E402
from ingest.worker import CameraWorker  # noqa: E402


def thread_cpu() -> dict[int, float]:
    """utime + stime seconds of every thread of this process, by native thread id."""
    out: dict[int, float] = {}
    for tid in os.listdir("/proc/self/task"):
        seconds = stat_cpu_seconds(Path(f"/proc/self/task/{tid}/stat"))
        if seconds is not None:
            out[int(tid)] = seconds
    return out


def kind_of(name: str) -> str:
    """Thread kind from the worker's thread names (``ingest-<cam>``, ``ingest-<cam>-<n>``)."""
    if name.startswith("consume-"):
        return "consumer"
    if name.startswith("ingest-"):
        return "decode" if name.rsplit("-", 1)[-1].isdigit() else "control"
    return "other"


def consume(worker: CameraWorker, stop: threading.Event, counts: dict[str, int]) -> None:
    """Take every frame offered, as an analysis thread would, and drop it."""
    cid = worker.camera.id
    while not stop.is_set():
        if worker.slot.take(timeout=0.5) is not None:
            counts[cid] = counts.get(cid, 0) + 1


def measure(n: int, seconds: float, max_fps: float | None, cache: Path) -> dict[str, object]:
    clips = clip.camera_clips(cache, n)
    work = Path(tempfile.mkdtemp(prefix="vigil-ingest-live-"))
    server = RtspServer([path for path, _ in clips], work / "rtsp.log")
    server.start()
    statuses: dict[str, CameraStatus] = {}
    workers = [CameraWorker(Camera(id=camera_id(k), name=f"live {k}", url=server.url(k),
                                   ingest=IngestOptions(max_fps=max_fps)),
                            lambda s: statuses.__setitem__(s.camera_id, s))
               for k in range(n)]
    stop, counts = threading.Event(), {}  # type: ignore[var-annotated]
    consumers = [threading.Thread(target=consume, args=(w, stop, counts),
                                  name=f"consume-{w.camera.id}", daemon=True) for w in workers]
    try:
        for w, c in zip(workers, consumers, strict=True):
            w.start()
            c.start()
        deadline = time.monotonic() + 30
        while any(w.state is not CameraState.STREAMING for w in workers):
            if time.monotonic() > deadline:
                raise SystemExit("not every camera streams after 30 s")
            time.sleep(0.2)
        time.sleep(5.0)
        before, frames0, t0 = thread_cpu(), dict(counts), time.monotonic()
        time.sleep(seconds)
        after, frames1, span = thread_cpu(), dict(counts), time.monotonic() - t0
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
    finally:
        stop.set()
        for w in workers:
            w.stop()
        server.stop()
    cores: dict[str, float] = {}
    for tid, spent in after.items():
        kind = kind_of(names.get(tid, ""))
        cores[kind] = cores.get(kind, 0.0) + (spent - before.get(tid, 0.0)) / span
    delivered = sum(frames1.get(k, 0) - frames0.get(k, 0) for k in frames1) / span / n
    return {"bench": "ingest_live", "cameras": n, "seconds": round(span, 1),
            "max_fps": max_fps, "delivered_fps": round(delivered, 2),
            "cores": round(sum(cores.values()), 4),
            "cores_per_camera": {k: round(v / n, 4) for k, v in sorted(cores.items())},
            "total_per_camera": round(sum(cores.values()) / n, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", "-n", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-fps", type=float, default=6.0, help="0 = no limit")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "vigil-capacity-clips")
    args = parser.parse_args()
    result = measure(args.cameras, args.seconds, args.max_fps or None, args.cache)
    per = result["cores_per_camera"]
    assert isinstance(per, dict)
    print(f"{args.cameras} cameras, {result['seconds']} s, max_fps {args.max_fps}: "
          f"{result['delivered_fps']} frames/s delivered per camera")
    for kind, value in per.items():
        print(f"  {kind:9s} {value:.4f} cores per camera")
    print(f"  {'total':9s} {result['total_per_camera']:.4f} cores per camera "
          f"({result['cores']:.3f} cores)")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
