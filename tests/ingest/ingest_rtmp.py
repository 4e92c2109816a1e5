"""A real RTMP server (nginx with Debian's RTMP module) and a real publisher, for ingest tests.

RTMP is how encoder boxes, OBS, drones and some platforms deliver video: the camera side
*publishes* to a server and Vigil *plays* from it, so both ends are separate processes here,
and either can be killed independently.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.ingest.ingest_rtsp import SYSTEM_PYTHON, free_port

NGINX = Path("/usr/sbin/nginx")
MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
PUSH = Path(__file__).with_name("rtmp_push.py")
CONF = """daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
load_module {module};
events {{ worker_connections 64; }}
rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; record off; }} }} }}
"""


def rtmp_missing() -> str | None:
    """Why the RTMP tests cannot run here, or None when they can."""
    if not NGINX.exists() or not MODULE.exists():
        return ("nginx with the RTMP module is not installed (apt-get install "
                "libnginx-mod-rtmp; `make test` does it)")
    if shutil.which(SYSTEM_PYTHON) is None:
        return f"{SYSTEM_PYTHON} (with python3-gi, for the publisher) is missing"
    return None


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, sig)
        proc.wait(5)


class RtmpServer:
    """nginx-rtmp on a loopback port, with one publisher pushing to ``/live/cam``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.server: subprocess.Popen[bytes] | None = None
        self.pusher: subprocess.Popen[bytes] | None = None
        (root / "nginx.conf").write_text(CONF.format(root=root, module=MODULE, port=self.port))

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/cam"

    def start(self) -> RtmpServer:
        self.server = subprocess.Popen(
            [str(NGINX), "-p", str(self.root), "-e", str(self.root / "error.log"),
             "-c", str(self.root / "nginx.conf")], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _accepting(self.port):
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx-rtmp did not start; see {self.root / 'error.log'}")
            time.sleep(0.05)
        return self

    def publish(self, size: str = "320x240") -> RtmpServer:
        """Start the publisher; returns once it runs (the stream exists a moment later)."""
        log = (self.root / "push.log").open("ab")
        self.pusher = subprocess.Popen([SYSTEM_PYTHON, str(PUSH), self.url, size],
                                       stdout=subprocess.PIPE, stderr=log)
        assert self.pusher.stdout is not None
        line = self.pusher.stdout.readline().decode()
        if not line.startswith("PUSHING"):
            raise RuntimeError(f"RTMP publisher did not start: {line!r}; see push.log")
        return self

    def stop_publishing(self) -> None:
        """The encoder dies (SIGKILL): the server drops the stream."""
        _stop(self.pusher)

    def kill(self) -> None:
        _stop(self.pusher)
        _stop(self.server)


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
