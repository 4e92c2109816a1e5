"""Node capacity: how many live 704x576 25 fps cameras one ``vigil run`` holds (issue 13).

Run from the repository root::

    .venv/bin/python bench/capacity.py [--cameras 10] [--minutes 10] [--max-fps 6]
    .venv/bin/python bench/capacity.py --sweep [--cameras 8] [--max-cameras 32] [--minutes 10]
    .venv/bin/python bench/capacity.py --cameras 24 --stream-fps 12.5 --kbps 768  # sub-streams

N real RTSP streams (tests/ingest/rtsp_server.py on loopback, one mount per camera) play a
generated 40 s loop of six cars with known plates (bench/capacity_clip.py), each camera
from another point of the loop; ``vigil run`` reads them with ``analytics: [plates,
vehicles]`` (``--analytics``), ``ingest.max_fps`` from ``--max-fps``, one watchlist entry
for the plate that passes every 40 s and a watchlist rule without cool-down. After the
cameras stream and a ``--warmup``, it measures for ``--minutes`` and prints per camera and
overall: analysed fps (all, while a car is in view, while the scene is empty), skipped
frames by reason, backlog, plates read and watched passes alerted against what went over
the wire, recall against a full-rate ``vigil replay`` of the same loop, CPU (cores) and PSS
of the whole ``vigil run`` process tree, and alert latency to a console WebSocket client;
then one JSON line. ``--sweep`` doubles N from ``--cameras`` while a run holds (see
bench/capacity_summary.py ``HOLD``) and then bisects to the largest N that holds.

The harness (RTSP server, this script) shares the machine; its CPU is printed so it can
be taken into account. Exit status 0 when every run completed (whether or not it held), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script: the repository root on the import path, as bench/soak.py does.
sys.path.insert(0, str(ROOT))

from bench import capacity_clip as clip  # noqa: E402
from bench.capacity_node import (  # noqa: E402
    REPLAY_START,
    Node,
    RtspServer,
    camera_id,
    harness_sample,
    reference_replay,
    write_config,
)
from bench.capacity_probe import (  # noqa: E402
    AlertFeed,
    Samples,
    sample_for,
    sightings,
    wait_streaming,
)
from bench.capacity_report import Reference, reference, wire_passes  # noqa: E402
from bench.capacity_summary import RunData, summarise, table  # noqa: E402

DRAIN_S = 5.0
"""Seconds the WebSocket client keeps listening after the window (late alerts of passes
inside it still count)."""


def reference_for(args: argparse.Namespace, cache: Path) -> Reference:
    """The full-rate replay of the loop (phase 0) with the bench's camera settings."""
    base = clip.camera_clips(cache, 1, args.stream_every, args.kbps * 1000)[0][0]
    config = write_config(Path(tempfile.mkdtemp(prefix="vigil-capacity-ref-")) / "config",
                          ["rtsp://127.0.0.1:1/cam0"], args.analytics, None, None)
    out = config.parent / "reference.jsonl"
    lines = reference_replay(base, config, out)
    return reference(lines, clip.passes(), REPLAY_START)


def run_once(n: int, args: argparse.Namespace, ref: Reference) -> dict[str, Any]:
    """Start the server and the node for ``n`` cameras, measure, stop; the summary."""
    work = Path(tempfile.mkdtemp(prefix="vigil-capacity-"))
    clips = clip.camera_clips(args.cache, n, args.stream_every, args.kbps * 1000)
    server = RtspServer([path for path, _off in clips], work / "rtsp.log")
    server.start()
    node = Node(write_config(work / "config", [server.url(k) for k in range(n)],
                             args.analytics, args.max_fps, args.detect_fps,
                             workers=args.workers), work)
    feed = AlertFeed(node.port, node.token)
    samples, harness = Samples(), []
    try:
        node.start()
        feed.start()
        print(f"[{n} cameras] vigil run up in {work} (log {node.log}); waiting for streams",
              flush=True)
        wait_streaming(node, n)
        time.sleep(args.warmup)
        assert server.proc is not None
        harness.append(harness_sample(server.proc.pid))
        start = time.time()
        sample_for(node, args.minutes * 60, args.every, samples)
        end = time.time()
        harness.append(harness_sample(server.proc.pid))
        time.sleep(DRAIN_S)
    finally:
        feed.stop()
        node.stop()
        server.stop()
    seen = sightings(work / "var" / "vigil.db")
    starts = server.loop_starts()
    passes = {camera_id(k): wire_passes(camera_id(k), clip.shifted(clip.passes(), off),
                                        starts.get(k, []), (start, end))
              for k, (_path, off) in enumerate(clips)}
    settings = {"stream_fps": clip.FPS / args.stream_every, "kbps": args.kbps,
                "max_fps": args.max_fps, "detect_fps": args.detect_fps,
                "workers": args.workers, "analytics": args.analytics, "work": str(work)}
    data = RunData(n, settings, (start, end), samples.scrapes, samples.tree, harness,
                   feed.alerts, seen, passes, ref)
    summary = summarise(data)
    summary["ws_errors"] = feed.errors
    if not args.keep:
        shutil.rmtree(work / "var" / "evidence", ignore_errors=True)
    return summary


def report(summary: dict[str, Any]) -> None:
    print(table(summary))
    print(json.dumps(summary, ensure_ascii=False, default=str), flush=True)


def sweep(args: argparse.Namespace, ref: Reference) -> list[dict[str, Any]]:
    """Double N from ``--cameras`` while it holds (up to ``--max-cameras``), then bisect
    between the last N that held and the first that did not."""
    results: dict[int, dict[str, Any]] = {}

    def holds(n: int) -> bool:
        results[n] = run_once(n, args, ref)
        report(results[n])
        print(f"sweep: {n} cameras {'hold' if results[n]['holds'] else 'do not hold'}",
              flush=True)
        return bool(results[n]["holds"])

    good, bad, n = 0, 0, args.cameras
    while not bad:
        if not holds(n):
            bad = n
        elif n >= args.max_cameras:
            good = n
            break
        else:
            good, n = n, min(n * 2, args.max_cameras)
    while bad and bad - good > max(1, args.resolution):
        mid = (good + bad) // 2
        good, bad = (mid, bad) if holds(mid) else (good, mid)
    steps = [{"cameras": k, "holds": v["holds"], "failed": v["failed"]}
             for k, v in sorted(results.items())]
    print(json.dumps({"bench": "capacity-sweep", "largest_holding": good or None,
                      "minutes_per_step": args.minutes, "max_fps": args.max_fps,
                      "detect_fps": args.detect_fps,
                      "steps": steps}, ensure_ascii=False), flush=True)
    return list(results.values())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cameras", "-n", type=int, default=10,
                        help="cameras (the sweep's first N; default 10)")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="measured minutes per run (default 10)")
    parser.add_argument("--max-fps", type=float, default=6.0,
                        help="ingest.max_fps of every camera (default 6; 0 = none)")
    parser.add_argument("--detect-fps", type=float, default=0.0,
                        help="detect_fps of every camera: the object detector at most this "
                        "often while something moves (default 0 = every analysed frame)")
    parser.add_argument("--stream-fps", type=float, default=float(clip.FPS),
                        help=f"frames per second the cameras send (default {clip.FPS}; "
                        f"{clip.FPS}/k for a whole k dividing {clip.GOP}, e.g. 12.5: a "
                        "sub-stream at a lower rate, same scene)")
    parser.add_argument("--kbps", type=int, default=clip.BIT_RATE // 1000,
                        help=f"the cameras' bit rate in kbit/s (default {clip.BIT_RATE // 1000})")
    parser.add_argument("--workers", type=int, default=0,
                        help="service.yaml workers: ingest worker processes (default 0 = one "
                        "per core)")
    parser.add_argument("--analytics", default="plates,vehicles",
                        help="camera analytics, comma-separated (default plates,vehicles)")
    parser.add_argument("--warmup", type=float, default=15.0,
                        help="seconds after every camera streams before measuring")
    parser.add_argument("--every", type=float, default=1.0,
                        help="seconds between /metrics and /proc readings")
    parser.add_argument("--sweep", action="store_true", help="find the largest N that holds")
    parser.add_argument("--max-cameras", type=int, default=48, help="sweep upper bound")
    parser.add_argument("--resolution", type=int, default=2,
                        help="sweep stops when the bracket is this narrow (default 2)")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "vigil-capacity-clips",
                        help="folder for the generated clips (reused between runs)")
    parser.add_argument("--keep", action="store_true", help="keep the evidence files")
    args = parser.parse_args(argv)
    args.analytics = [a.strip() for a in args.analytics.split(",") if a.strip()]
    args.max_fps = args.max_fps or None
    args.detect_fps = args.detect_fps or None
    if args.cameras < 1 or args.minutes <= 0 or args.kbps < 64:
        parser.error("--cameras must be ≥ 1, --minutes > 0 and --kbps ≥ 64")
    try:
        args.stream_every = clip.every_for(args.stream_fps)
    except ValueError as exc:
        parser.error(f"--stream-fps {exc}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print("full-rate reference: vigil replay of one loop ...", flush=True)
    ref = reference_for(args, args.cache)
    print(f"full-rate replay read {sorted(ref.read)}; watched pass alerted: "
          f"{ref.watched_alerted}", flush=True)
    if not ref.read:
        print("warning: the full-rate replay reads no plate of the generated cars, so recall "
              "cannot be compared with it (vehicle mode reads plates only inside detected "
              "vehicles, and YOLOX does not detect the drawn cars); try --analytics plates",
              flush=True)
    if args.sweep:
        sweep(args, ref)
    else:
        report(run_once(args.cameras, args, ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
