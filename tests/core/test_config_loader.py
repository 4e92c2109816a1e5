"""The loader against real files: every invalid case points at its exact line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import (
    IngestOptions,
    load_cameras,
    load_config,
    load_service,
    validate_dir,
)
from core.config.urls import display_url, effective_url
from core.errors import ConfigError
from core.gbid import parse_gb_id

CASES = Path(__file__).parent / "config_cases"

EXPECTED: dict[str, list[str]] = {
    "typo_key": [
        "typo_key/cameras/gate.yaml:5: cameras.0.strem_url: Extra inputs are not permitted",
    ],
    "bad_lat": [
        "bad_lat/cameras/gate.yaml:7: cameras.0.location.lat: "
        "Input should be less than or equal to 90",
    ],
    "bad_crs": [
        "bad_crs/cameras/gate.yaml:5: cameras.0.location.crs: "
        "Input should be 'WGS84', 'GCJ02', 'BD09' or 'CGCS2000'",
    ],
    "missing_name": [
        "missing_name/cameras/gate.yaml:2: cameras.0.name: Field required",
    ],
    "unquoted_gb_id": [
        "unquoted_gb_id/cameras/gate.yaml:2: cameras.0.id: "
        "Input should be a valid string; put the value in quotes",
    ],
    "duplicate_id": [
        "duplicate_id/cameras/b.yml:6: cameras.1.id: duplicate camera id 'gate-3', also "
        "defined at duplicate_id/cameras/a.yaml:2; give each camera its own id",
    ],
    "undefined_var": [
        "undefined_var/cameras/gate.yaml:4: cameras.0.url: environment variable CAM_HOST is "
        "not set; export it or write ${CAM_HOST:-default}",
        "undefined_var/cameras/gate.yaml:6: cameras.0.password: environment variable CAM_PASS "
        "is not set; export it or write ${CAM_PASS:-default}",
    ],
    "yaml_syntax": [
        "yaml_syntax/cameras/gate.yaml:5: could not find expected ':' "
        "(while scanning a simple key at line 4)",
    ],
    "duplicate_key": [
        "duplicate_key/cameras/gate.yaml:5: cameras.0.name: duplicate key 'name' "
        "(first at line 3); keep one",
    ],
    "zero_area": [
        "zero_area/cameras/gate.yaml:8: cameras.0.zones.0.polygon: camera 'gate-3': zone "
        "'yard' polygon has zero area; give at least 3 points not on one line",
    ],
    "line_same_points": [
        "line_same_points/cameras/gate.yaml:10: cameras.0.lines.1: camera 'gate-3': line "
        "'exit' has a == b; move b so the line has a length",
    ],
    "analytics_without_shapes": [
        "analytics_without_shapes/cameras/gate.yaml:7: cameras.0.analytics.1: camera "
        "'gate-3': 'line_crossing' is enabled but no lines are defined; add lines: or remove it",
        "analytics_without_shapes/cameras/gate.yaml:8: cameras.0.analytics.2: camera "
        "'gate-3': 'crowd' is enabled but no zones are defined; add zones: or remove it",
    ],
    "unknown_scheme": [
        "unknown_scheme/cameras/gate.yaml:4: cameras.0.url: camera 'gate-3': unknown scheme "
        "'rtps' in url; use rtsp://, rtsps://, rtmp://, http(s)://, file:// or a file path",
    ],
    "evidence_same": [
        "evidence_same/cameras/gate.yaml:5: cameras.0.evidence_url: camera 'gate-3': "
        "evidence_url is the same as url, which opens one stream twice; set it to the main "
        "stream or remove it",
    ],
    "schedule_backwards": [
        "schedule_backwards/cameras/gate.yaml:7: cameras.0.schedule.1: camera 'gate-3': "
        "schedule window 22:00-06:00 does not start before it ends; split an overnight "
        "window into two (e.g. 22:00-24:00 and 00:00-06:00)",
    ],
    "bad_service": [
        "bad_service/service.yaml:1: bus: bus must start with memory://, local://, redis:// "
        "or rediss://",
        "bad_service/service.yaml:3: console.bind: Input should be a valid string; put the "
        "value in quotes",
        "bad_service/service.yaml:6: defaults.ingest.stal_after: Extra inputs are not "
        "permitted",
    ],
    "many_problems": [
        "many_problems/cameras/a.yaml:5: cameras.0.location.lon: "
        "Input should be less than or equal to 180",
        "many_problems/cameras/a.yaml:8: cameras.1.url: camera 'gate-4': unknown scheme 'ftp' "
        "in url; use rtsp://, rtsps://, rtmp://, http(s)://, file:// or a file path",
        "many_problems/cameras/b.yaml:5: cameras.0.analytics.0: camera 'gate-5': 'loitering' "
        "is enabled but no zones are defined; add zones: or remove it",
        "many_problems/cameras/b.yaml:6: camera: Extra inputs are not permitted",
        "many_problems/cameras/c.yaml:2: expected the node content, but found '<stream end>' "
        "(while parsing a flow node at line 2)",
    ],
}


@pytest.fixture
def in_cases(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the cases folder so messages carry short relative file names."""
    monkeypatch.chdir(CASES)
    return CASES


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_invalid_case_reports_exact_lines(in_cases: Path, case: str) -> None:
    assert validate_dir(case, env={}) == EXPECTED[case]
    with pytest.raises(ConfigError) as raised:
        load_config(case, env={})
    assert raised.value.problems == EXPECTED[case]


def test_every_invalid_case_folder_has_expectations() -> None:
    folders = {p.name for p in CASES.iterdir() if p.is_dir()}
    valid = {"minimal", "defaults_merge", "env_default"}
    assert folders - valid == set(EXPECTED)


def test_minimal_skynet_file_is_accepted(in_cases: Path) -> None:
    config = load_config("minimal", env={})
    (camera,) = config.cameras
    assert camera.id == "34020000001320000001"
    assert camera.name == "人民路与建设路口"
    assert camera.group == "skynet"
    assert camera.location is not None
    assert (camera.location.lon, camera.location.lat, camera.location.crs) == (
        106.38, 39.02, "WGS84")
    assert camera.location.address == "大武口区人民路"
    assert config.sources == {camera.id: Path("minimal/cameras/skynet.yaml")}
    assert config.camera(camera.id) is camera


def test_gb_id_of_a_loaded_camera_is_parsed(in_cases: Path) -> None:
    (camera,) = load_config("minimal", env={}).cameras
    gb = parse_gb_id(camera.id)
    assert gb is not None
    assert (gb.centre, gb.type_name, gb.network_name, gb.serial) == (
        "34020000", "IPC", "PSB video network", "000001")


def test_service_defaults_are_merged_under_each_camera(in_cases: Path) -> None:
    config = load_config("defaults_merge", env={})
    own, inherited = config.camera("gate-3").ingest, config.camera("gate-4").ingest
    assert (own.stall_after, own.backoff_cap, own.max_fps) == (4.0, 30.0, 8.0)
    assert (inherited.stall_after, inherited.backoff_cap, inherited.max_fps) == (20.0, 30.0, 8.0)
    assert own.read_timeout == IngestOptions().read_timeout


def test_load_cameras_takes_defaults_explicitly(in_cases: Path) -> None:
    cameras = load_cameras("defaults_merge", IngestOptions(backoff_cap=9.0), env={})
    assert [c.ingest.backoff_cap for c in cameras] == [9.0, 9.0]
    assert cameras[0].ingest.stall_after == 4.0


@pytest.mark.parametrize(
    ("env", "url", "shown"),
    [
        ({}, "rtsp://admin@10.0.0.5:554/sub", "rtsp://***@10.0.0.5:554/sub"),
        ({"CAM_USER": "ops", "CAM_PASS": "p@ss:wörd"},
         "rtsp://ops:p%40ss%3Aw%C3%B6rd@10.0.0.5:554/sub", "rtsp://***@10.0.0.5:554/sub"),
        # ":-" also replaces an empty value, like the shell
        ({"CAM_HOST": "cam.local", "CAM_USER": ""}, "rtsp://admin@cam.local:554/sub",
         "rtsp://***@cam.local:554/sub"),
    ],
)
def test_env_defaults_and_credentials(in_cases: Path, env: dict[str, str], url: str,
                                      shown: str) -> None:
    (camera,) = load_config("env_default", env=env).cameras
    assert effective_url(camera) == url
    assert display_url(camera) == shown


def test_env_comes_from_os_environ_by_default(in_cases: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAM_HOST", "10.9.9.9")
    monkeypatch.setenv("CAM_PASS", "secret")
    (camera,) = load_config("undefined_var").cameras
    assert effective_url(camera) == "rtsp://admin:secret@10.9.9.9/sub"
    assert "secret" not in display_url(camera)


def test_absent_service_file_gives_defaults(tmp_path: Path) -> None:
    service = load_service(tmp_path / "service.yaml")
    assert (service.bus, service.store, service.console.bind) == (
        "local://", "sqlite:///var/vigil.db", "127.0.0.1:8080")
    assert load_config(tmp_path).cameras == ()


def test_empty_files_are_valid(tmp_path: Path) -> None:
    (tmp_path / "cameras").mkdir()
    (tmp_path / "service.yaml").write_text("# nothing yet\n")
    (tmp_path / "cameras" / "none.yaml").write_text("")
    assert validate_dir(tmp_path) == []


def test_missing_directory_is_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert validate_dir(missing) == [f"{missing}: configuration directory not found"]


def test_non_mapping_file_and_non_utf8(tmp_path: Path) -> None:
    cams = tmp_path / "cameras"
    cams.mkdir()
    (cams / "a.yaml").write_text("- id: x\n")
    (cams / "b.yaml").write_bytes(b"cameras:\n  - name: \xff\n")
    (cams / ".#a.yaml").write_text("editor lock file: ignored\n")
    assert validate_dir(tmp_path) == [
        f"{cams}/a.yaml:1: Input should be a valid dictionary or instance of CameraFile",
        f"{cams}/b.yaml:2: file is not UTF-8 text; save it as UTF-8",
    ]


def test_secret_values_never_appear_in_problems(tmp_path: Path) -> None:
    cams = tmp_path / "cameras"
    cams.mkdir()
    (cams / "a.yaml").write_text(
        "cameras:\n  - id: a\n    name: A\n    url: ${URL}\n    password: ${PW}\n")
    problems = validate_dir(tmp_path, env={"URL": "var/a.mp4", "PW": "hunter2"})
    assert problems == [f"{cams}/a.yaml:5: cameras.0.password: camera 'a': password without "
                        "username; add username"]
    assert "hunter2" not in "".join(problems)
