"""The example configs shipped in configs/ are valid as they are, in CI (no env vars set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_config, validate_dir
from core.config.urls import display_url, effective_url

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
CASES = Path(__file__).parent / "config_cases"


def test_examples_validate_without_environment() -> None:
    assert validate_dir(CONFIGS, env={}) == []


def test_examples_load_as_documented() -> None:
    config = load_config(CONFIGS, env={})
    assert (config.service.bus, config.service.store, config.service.console.bind) == (
        "local://", "sqlite:///var/vigil.db", "127.0.0.1:8080")
    ids = [c.id for c in config.cameras]
    assert ids == ["demo", "34020000001320000001", "gate-3"]
    assert config.camera("demo").url == "var/demo/demo-v3.mp4"
    assert config.sources["gate-3"] == CONFIGS / "cameras" / "example-skynet.yaml"


def test_rich_example_credentials_come_from_env() -> None:
    env = {"CAM_USER": "ops", "CAM_PASS": "s3cret"}
    gate = load_config(CONFIGS, env=env).camera("gate-3")
    assert effective_url(gate) == "rtsp://ops:s3cret@192.0.2.10:554/Streaming/Channels/102"
    assert display_url(gate) == "rtsp://***@192.0.2.10:554/Streaming/Channels/102"
    assert gate.ingest.stall_after == 15.0 and gate.ingest.backoff_cap == 5.0


def test_skynet_example_starts_with_the_minimal_file_verbatim() -> None:
    minimal = (CASES / "minimal" / "cameras" / "skynet.yaml").read_text(encoding="utf-8")
    example = (CONFIGS / "cameras" / "example-skynet.yaml").read_text(encoding="utf-8")
    assert example.startswith(minimal)


def test_file_sources_need_not_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # var/demo/demo-v3.mp4 is made by `vigil run`, later
    assert not Path("var/demo/demo-v3.mp4").exists()
    assert load_config(CONFIGS, env={}).camera("demo").url == "var/demo/demo-v3.mp4"
