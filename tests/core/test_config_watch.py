"""Hot reload through real files: poll() is driven by hand, the thread checked once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.config import CameraDiff, ConfigWatcher, LoadedConfig
from core.errors import ConfigError


def camera_yaml(*cams: tuple[str, str]) -> str:
    lines = ["cameras:"]
    for cam_id, url in cams:
        lines += [f"  - id: {cam_id}", f"    name: {cam_id.upper()}", f"    url: {url}"]
    return "\n".join(lines) + "\n"


class Recorder:
    """Collects callbacks so tests can assert what the watcher reported."""

    def __init__(self) -> None:
        self.changes: list[tuple[LoadedConfig, CameraDiff]] = []
        self.errors: list[list[str]] = []
        self.event = threading.Event()

    def on_change(self, config: LoadedConfig, diff: CameraDiff) -> None:
        self.changes.append((config, diff))
        self.event.set()

    def on_error(self, problems: list[str]) -> None:
        self.errors.append(problems)
        self.event.set()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, ConfigWatcher, Recorder]:
    cams = tmp_path / "cameras"
    cams.mkdir()
    (cams / "a.yaml").write_text(camera_yaml(("a1", "rtsp://h/a1"), ("a2", "rtsp://h/a2")))
    (cams / "b.yaml").write_text(camera_yaml(("b1", "rtsp://h/b1")))
    rec = Recorder()
    return cams, ConfigWatcher(tmp_path, rec.on_change, rec.on_error), rec


def ids(watcher: ConfigWatcher) -> list[str]:
    return [c.id for c in watcher.current.cameras]


def test_no_change_no_callback(setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams / "a.yaml").touch()
    assert watcher.poll() is False
    assert ids(watcher) == ["a1", "a2", "b1"]
    assert rec.changes == [] and rec.errors == []


def test_added_file(setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams / "c.yml").write_text(camera_yaml(("c1", "rtsp://h/c1")))
    assert watcher.poll() is True
    ((config, diff),) = rec.changes
    assert diff == CameraDiff(added=("c1",))
    assert config is watcher.current and ids(watcher) == ["a1", "a2", "b1", "c1"]


def test_removed_file(setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams / "a.yaml").unlink()
    assert watcher.poll() is True
    assert rec.changes[-1][1] == CameraDiff(removed=("a1", "a2"))


def test_only_the_changed_camera(setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams / "a.yaml").write_text(camera_yaml(("a1", "rtsp://h/a1"), ("a2", "rtsp://h/NEW")))
    assert watcher.poll() is True
    assert rec.changes[-1][1] == CameraDiff(changed=("a2",))
    assert watcher.current.camera("a2").url == "rtsp://h/NEW"


def test_service_defaults_change_marks_inheriting_cameras(
        setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams.parent / "service.yaml").write_text("defaults:\n  ingest:\n    stall_after: 3\n")
    assert watcher.poll() is True
    assert rec.changes[-1][1] == CameraDiff(changed=("a1", "a2", "b1"))


def test_bad_edit_keeps_config_then_fix_applies(
        setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    before = watcher.current
    bad = camera_yaml(("b1", "rtsp://h/b1")) + "    location: {lon: 0, lat: 99}\n"
    (cams / "b.yaml").write_text(bad)
    assert watcher.poll() is False
    assert rec.errors == [[f"{cams / 'b.yaml'}:5: cameras.0.location.lat: "
                           "Input should be less than or equal to 90"]]
    assert watcher.current is before and rec.changes == []
    assert watcher.poll() is False and len(rec.errors) == 1  # reported once, not every poll
    (cams / "b.yaml").write_text(camera_yaml(("b1", "rtsp://h/b1-fixed")))
    assert watcher.poll() is True
    assert rec.changes[-1][1] == CameraDiff(changed=("b1",))
    assert watcher.current.camera("b1").url == "rtsp://h/b1-fixed"


def test_duplicate_across_files_is_rejected(
        setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    (cams / "c.yaml").write_text(camera_yaml(("a1", "rtsp://h/x")))
    assert watcher.poll() is False
    assert rec.errors == [[f"{cams / 'c.yaml'}:2: cameras.0.id: duplicate camera id 'a1', "
                           f"also defined at {cams / 'a.yaml'}:2; give each camera its own id"]]
    assert ids(watcher) == ["a1", "a2", "b1"]


def test_invalid_at_start_raises(tmp_path: Path) -> None:
    (tmp_path / "service.yaml").write_text("bus: nope://\n")
    rec = Recorder()
    with pytest.raises(ConfigError):
        ConfigWatcher(tmp_path, rec.on_change, rec.on_error)


def test_thread_polls_until_stopped(setup: tuple[Path, ConfigWatcher, Recorder]) -> None:
    cams, watcher, rec = setup
    watcher.interval = 0.02
    watcher.start()
    try:
        (cams / "d.yaml").write_text(camera_yaml(("d1", "var/d1.mp4")))
        assert rec.event.wait(5.0)
    finally:
        watcher.stop(timeout=5.0)
    assert rec.changes[-1][1].added == ("d1",)


def test_failing_callback_does_not_kill_the_thread(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "cameras").mkdir()
    first, second = threading.Event(), threading.Event()

    def explode(config: LoadedConfig, diff: CameraDiff) -> None:
        if not first.is_set():
            first.set()
            raise RuntimeError("consumer bug")
        second.set()

    watcher = ConfigWatcher(tmp_path, explode, lambda problems: None, interval=0.02)
    watcher.start()
    try:
        (tmp_path / "cameras" / "a.yaml").write_text(camera_yaml(("a1", "x.mp4")))
        assert first.wait(5.0)
        (tmp_path / "cameras" / "b.yaml").write_text(camera_yaml(("b1", "y.mp4")))
        assert second.wait(5.0)
    finally:
        watcher.stop(timeout=5.0)
    assert "config watcher: poll of" in caplog.text
    assert watcher.current.camera("b1").url == "y.mp4"
