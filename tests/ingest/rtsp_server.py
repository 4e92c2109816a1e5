"""A real RTSP server for the ingest tests (GStreamer, run with the SYSTEM interpreter).

    /usr/bin/python3 tests/ingest/rtsp_server.py --port 8554 --file clip.mp4
    /usr/bin/python3 tests/ingest/rtsp_server.py --port 8554 --udp 5600
    /usr/bin/python3 tests/ingest/rtsp_server.py --port 8554 --testsrc 352x288

Serves ``rtsp://127.0.0.1:<port>/cam`` and prints ``READY <port>`` once listening.
``--file`` may be given several times (bench/capacity.py: one mount per camera): file k
(from 0) is served at ``/cam<k>``, and the first also at ``/cam``. ``--events`` prints
``PLAY <mount> <unix time>`` when a client's pipeline starts playing and ``LOOP <mount>
<unix time>`` when a file starts over, so a bench knows which video second was on the wire
when (the loop adds a few milliseconds per round, which a fixed clip length would miss).
``--file`` plays an H.264 MP4 in real time and loops it (the EOS is dropped at the demuxer
and the file sought back to 0); ``--udp`` re-serves MPEG-TS pushed to udp://127.0.0.1:P
(the buffer-size / ignore-pcr settings from docs/platform-notes.md make the first frame
come at once); ``--testsrc`` is a live x264-encoded test picture. Each client gets its own
pipeline (not shared), so every connection starts at the beginning of the file.

python3-gi lives in the system interpreter only, which is why this is a script and not an
importable module; the tests start it with ``/usr/bin/python3``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PAY = "rtph264pay name=pay0 pt=96 config-interval=1"


def launch_line(args: argparse.Namespace, file: str | None = None) -> str:
    """The media pipeline for the chosen mode (``file``: the one for this mount)."""
    if file:
        return (f"( filesrc location={file} ! qtdemux name=demux ! "
                f"h264parse config-interval=-1 ! identity sync=true ! {PAY} )")
    if args.udp:
        return (f"( udpsrc port={args.udp} buffer-size=4194304 caps=video/mpegts ! "
                f"tsdemux ignore-pcr=true latency=0 ! h264parse config-interval=-1 ! {PAY} )")
    width, height = (int(v) for v in args.testsrc.split("x"))
    return (f"( videotestsrc is-live=true pattern=ball ! "
            f"video/x-raw,width={width},height={height},framerate=25/1 ! "
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! {PAY} )")


def event(kind: str, mount: str | None) -> None:
    """One ``--events`` line (only when a mount name was given)."""
    if mount is not None:
        print(f"{kind} {mount} {time.time():.3f}", flush=True)


def loop_on_eos(_factory: Any, media: Any, mount: str | None = None) -> None:
    """Make a file play forever: drop the demuxer's EOS and seek back to the start."""
    demux = media.get_element().get_by_name("demux")
    if demux is None:
        return
    if mount is not None:
        media.connect("new-state", lambda _m, state: event("PLAY", mount)
                      if state == Gst.State.PLAYING else None)

    def rewind() -> bool:
        demux.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)
        event("LOOP", mount)
        return False

    def probe(_pad: Any, info: Any) -> Any:
        if info.get_event().type == Gst.EventType.EOS:
            GLib.idle_add(rewind)
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    def on_pad(_demux: Any, pad: Any) -> None:
        pad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, probe)

    demux.connect("pad-added", on_pad)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--address", default="127.0.0.1",
                        help="listen address (0.0.0.0 in docker/compose.yaml's camera)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--file", action="append")
    mode.add_argument("--udp", type=int)
    mode.add_argument("--testsrc")
    parser.add_argument("--events", action="store_true",
                        help="print PLAY/LOOP lines with the time (files only)")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = [("/cam", None)] if not args.file else [
        (f"/cam{k}", file) for k, file in enumerate(args.file)]
    if args.file:
        mounts.insert(0, ("/cam", args.file[0]))
    for mount, file in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(args, file))
        factory.set_shared(bool(args.udp))
        if file:
            name = mount if args.events else None
            factory.connect("media-configure", lambda f, m, n=name: loop_on_eos(f, m, n))
        server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
