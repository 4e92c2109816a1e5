"""The frame-consumer hook: built inside the worker process, fed frames, told of changes.

The factory travels to spawned worker processes pickled (by module and name), so these
tests also check what survives that trip: a module-level function, including the one
``vigil run`` passes, and a clear refusal, before any process starts, of what does not.
"""

from __future__ import annotations

import json
import multiprocessing
import pickle
import time
from pathlib import Path
from typing import Any

import cv2
import pytest

from core.config.models import Service
from core.errors import FatalError
from core.messages import CameraStatus
from ingest.consumer import ConsumerFactory, ConsumerSpec, check_picklable, load_consumer
from ingest.node import IngestNode
from tests.ingest import consumer_probe
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
    spec = ConsumerSpec(consumer_probe.make, {"path": str(probe)})
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


def test_a_module_level_factory_survives_the_trip_to_a_worker_process() -> None:
    spec = ConsumerSpec(consumer_probe.make, {"path": "/nowhere"})
    check_picklable(spec)
    again = pickle.loads(pickle.dumps(spec))
    assert again.factory is consumer_probe.make
    assert again.options == {"path": "/nowhere"}


def _closure() -> ConsumerFactory:
    def make(options: dict[str, Any]) -> consumer_probe.Probe:
        return consumer_probe.Probe(options)

    return make


@pytest.mark.parametrize("factory", [_closure(), lambda opts: consumer_probe.Probe({**opts})],
                         ids=["closure", "lambda"])
def test_a_factory_a_worker_process_cannot_rebuild_is_refused_before_any_starts(
        tmp_path: Path, factory: ConsumerFactory) -> None:
    spec = ConsumerSpec(factory, {"path": str(tmp_path / "probe.json")})
    with pytest.raises(FatalError, match="pass a module-level function"):
        IngestNode(lambda status: None, workers=1, consumer=spec)
    IngestNode(lambda status: None, workers=0, consumer=spec).stop()  # in-process: no trip
    assert read(tmp_path / "probe.json")["events"] == ["close"]


def _factory_name(spec: ConsumerSpec, names: multiprocessing.Queue[str]) -> None:
    """In a spawned child: what the spec's factory became after unpickling."""
    names.put(f"{spec.factory.__module__}.{spec.factory.__qualname__}")


@pytest.mark.slow  # a fresh interpreter imports the analytics stage
def test_vigil_run_hands_ingest_the_analysis_factory_and_it_reaches_a_spawned_process(
) -> None:
    from vigil.analysis import make_host
    from vigil.run import analysis_spec

    spec = analysis_spec(Service())
    assert spec.factory is make_host
    check_picklable(spec)
    ctx = multiprocessing.get_context("spawn")  # as ingest.node starts its workers
    names: multiprocessing.Queue[str] = ctx.Queue()
    child = ctx.Process(target=_factory_name, args=(spec, names))
    child.start()
    try:
        assert names.get(timeout=60) == "vigil.analysis.make_host"
    finally:
        child.join(10)
    assert child.exitcode == 0


def _opencv_threads(spec: ConsumerSpec, answers: multiprocessing.Queue[int]) -> None:
    """In a spawned child: OpenCV's thread count once the consumer is built."""
    consumer = load_consumer(spec)
    answers.put(cv2.getNumThreads())
    consumer.close()


@pytest.mark.slow  # a fresh interpreter imports the analytics stage
def test_a_worker_process_runs_opencv_on_one_thread() -> None:
    from vigil.run import analysis_spec

    spec = analysis_spec(Service())
    ctx = multiprocessing.get_context("spawn")
    answers: multiprocessing.Queue[int] = ctx.Queue()
    child = ctx.Process(target=_opencv_threads, args=(spec, answers))
    child.start()
    try:
        assert answers.get(timeout=60) == 1
    finally:
        child.join(10)
    assert child.exitcode == 0
