"""Publish a live test picture to an RTMP server (GStreamer; run with the SYSTEM interpreter).

    /usr/bin/python3 tests/ingest/rtmp_push.py rtmp://127.0.0.1:1935/live/cam [320x240]

Scrolling colour bars, x264 (zero-latency, a keyframe every second) in FLV, the way an encoder box
or OBS publishes to a streaming server. Prints ``PUSHING`` once the pipeline runs; SIGTERM
stops it. python3-gi lives in the system interpreter only, hence a script.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main() -> int:
    url = sys.argv[1]
    width, height = (int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "320x240").split("x"))
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! "
        f"video/x-raw,width={width},height={height},framerate=25/1 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bframes=0 ! "
        f"h264parse ! flvmux streamable=true ! rtmp2sink location={url}")
    loop = GLib.MainLoop()

    def on_message(_bus: Any, message: Any) -> None:
        if message.type in (Gst.MessageType.ERROR, Gst.MessageType.EOS):
            if message.type == Gst.MessageType.ERROR:
                print(f"ERROR {message.parse_error()[0].message}", file=sys.stderr, flush=True)
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    pipeline.set_state(Gst.State.PLAYING)
    print("PUSHING", flush=True)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
