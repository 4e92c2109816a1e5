"""Start, kill, freeze and restart the GStreamer RTSP test server (tests/ingest/rtsp_server.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from tests.ingest.ingest_media import FPS, SIZE, moving

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("rtsp_server.py")
READY_TIMEOUT = 10.0


def gst_rtsp_missing() -> str | None:
    """Why the RTSP tests cannot run here, or None when they can."""
    probe = ("import gi; gi.require_version('Gst', '1.0'); "
             "gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import GstRtspServer")
    try:
        result = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True,
                                timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} unusable: {exc}"
    if result.returncode != 0:
        return (f"GStreamer RTSP server not usable from {SYSTEM_PYTHON} (apt-get install "
                "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,bad,"
                f"ugly}}): {result.stderr.decode(errors='replace').strip()[-200:]}")
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RtspServer:
    """One server process on a fixed port; ``restart()`` reuses the port."""

    def __init__(self, mode: list[str], log_dir: Path) -> None:
        self.mode = mode
        self.port = free_port()
        self.log = log_dir / f"rtsp-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> RtspServer:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(SCRIPT), "--port", str(self.port), *self.mode],
                stdout=subprocess.PIPE, stderr=log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY"):
            self.kill()
            raise RuntimeError(f"RTSP server did not start: {line!r}; see {self.log}")
        self._wait_accepting()
        return self

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the connection drops at once (a camera losing power)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def pause(self) -> None:
        """SIGSTOP: the connection stays open and goes silent (a hung encoder)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self) -> RtspServer:
        self.kill()
        return self.start()


StartServer = Callable[..., RtspServer]
"""The ``rtsp`` fixture: ``rtsp("--file", path, start=True) -> RtspServer``."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class UdpPusher(threading.Thread):
    """Encodes moving frames in real time as MPEG-TS over UDP (for ``--udp`` servers).

    Between ``damage_from`` and ``damage_to`` seconds, random bytes of every datagram are
    overwritten: a camera link that goes bad for a while and then recovers.
    """

    def __init__(self, port: int, seconds: float,
                 damage: tuple[float, float] | None = None) -> None:
        super().__init__(name="udp-pusher", daemon=True)
        self.port = port
        self.seconds = seconds
        self.damage = damage
        self.sent = 0
        self.damaged = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.started_at = 0.0
        self._pending = b""
        self._rng = np.random.default_rng(5)
        self._halt = threading.Event()
        self.healed = threading.Event()
        """Set when the first datagram after the damage window has been sent intact."""

    def stop(self) -> None:
        self._halt.set()
        self.join(5.0)

    def write(self, data: bytes) -> int:
        """File-like sink for the MPEG-TS muxer: 7 TS packets per datagram."""
        self._pending += bytes(data)
        while len(self._pending) >= 1316:
            chunk, self._pending = self._pending[:1316], self._pending[1316:]
            self._send(chunk)
        return len(data)

    def _send(self, chunk: bytes) -> None:
        elapsed = time.monotonic() - self.started_at
        if self.damage and self.damage[0] <= elapsed < self.damage[1]:
            buf = bytearray(chunk)
            for pos in self._rng.integers(0, len(buf), 40):
                buf[int(pos)] = int(self._rng.integers(0, 256))
            chunk = bytes(buf)
            self.damaged += 1
        elif self.damage and elapsed >= self.damage[1]:
            self.healed.set()
        self._sock.sendto(chunk, ("127.0.0.1", self.port))
        self.sent += 1

    def run(self) -> None:
        self.started_at = time.monotonic()
        with av.open(self, "w", format="mpegts") as out:
            stream = out.add_stream("libx264", rate=FPS, options={
                "preset": "ultrafast", "tune": "zerolatency", "g": str(FPS), "bf": "0"})
            stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
            for i, img in enumerate(moving(self.seconds)):
                if self._halt.is_set():
                    break
                delay = self.started_at + i / FPS - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        self._sock.close()
