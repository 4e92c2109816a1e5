"""The frame-consumer hook: built inside the worker process, fed frames, told of changes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from core.messages import CameraStatus
from ingest.consumer import ConsumerSpec, load_consumer
from ingest.node import IngestNode
from tests.ingest.ingest_helpers import camera
from tests.ingest.ingest_media import encode, moving


def read(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"events": [], "frames": {}}
    return data


def wait(path: Path, test: Any, timeout: float = 15.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        data = read(path)
        if test(data):
            return data
        time.sleep(0.1)
    raise AssertionError(f"consumer never reached the expected state: {read(path)}")


@pytest.mark.parametrize("workers", [0, pytest.param(1, marks=pytest.mark.slow)])  # 1: a process
def test_consumer_sees_frames_and_config_changes(tmp_path: Path, workers: int) -> None:
    video = encode(tmp_path / "clip.mp4", moving(2.0))
    probe = tmp_path / "probe.json"
    spec = ConsumerSpec("tests.ingest.consumer_probe:make", {"path": str(probe)})
    statuses: list[CameraStatus] = []
    node = IngestNode(statuses.append, workers=workers, consumer=spec)
    cam = camera("file-a", str(video))
    try:
        node.apply([cam])
        wait(probe, lambda d: d["frames"].get("file-a", 0) >= 10)
        node.apply([cam.model_copy(update={"analytics": ["plates"]})])  # same stream
        wait(probe, lambda d: "start file-a plates" in d["events"])
        node.apply([])
        data = wait(probe, lambda d: d["events"][-1] == "stop file-a")
        assert data["events"] == ["start file-a ", "stop file-a", "start file-a plates",
                                  "stop file-a"]
    finally:
        node.stop()
    wait(probe, lambda d: d["events"][-1] == "close")


def test_a_bad_factory_path_is_a_clear_error() -> None:
    from core.errors import FatalError

    with pytest.raises(FatalError, match="cannot be imported"):
        load_consumer(ConsumerSpec("no.such.module:make"))
