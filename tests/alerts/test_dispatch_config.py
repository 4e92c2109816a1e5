"""The ``dispatch:`` configuration: defaults, typos refused, cross-checks with clear messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from core.config.dispatch import DispatchConfig, DispatchTarget
from core.config.envvars import expand_env

DOC = Path(__file__).resolve().parents[2] / "docs" / "dispatch.md"

BASE = "https://vigil.test/evidence"


def target(**values: Any) -> dict[str, Any]:
    return {"name": "110-city", "url": "https://110.example/hook", "secret": "s3cret"} | values


def load(**values: Any) -> DispatchConfig:
    data: dict[str, Any] = {"evidence": {"public_base_url": BASE}, "targets": [target()]}
    return DispatchConfig.model_validate(data | values)


def error(**values: Any) -> str:
    with pytest.raises(ValidationError) as info:
        load(**values)
    return str(info.value)


def test_defaults() -> None:
    cfg = load()
    (t,) = cfg.targets
    assert (t.format, t.levels, t.categories, t.include_review_only, t.updates) == (
        "json", [1, 2, 3, 4], [], False, False)
    assert (t.timeout, t.max_attempts, t.backoff_base, t.backoff_cap) == (5.0, 8, 2.0, 300.0)
    assert (cfg.concurrency, cfg.batch, cfg.lease) == (8, 50, 120.0)
    assert DispatchConfig().targets == []  # no dispatch configured is valid


def test_secrets_never_appear_in_repr() -> None:
    cfg = load(callback_secret="cb-secret")
    assert "s3cret" not in repr(cfg) and "cb-secret" not in repr(cfg)


@pytest.mark.parametrize(("values", "message"), [
    ({"targets": [target(max_attemps=3)]}, "max_attemps"),
    ({"targets": [target(url="ftp://x")]}, "url"),
    ({"targets": [target(url="http://[::1/hook")]}, "url is not usable"),
    ({"targets": [target(url="http://host:99999/")]}, "url is not usable"),
    ({"targets": [target(url="http://:80/x")]}, "url has no host"),
    ({"targets": [target(secret="whsec_***")]}, "not base64"),
    ({"targets": [target(format="xml")]}, "format"),
    ({"targets": [target(levels=[5])]}, "levels"),
    ({"targets": [target(name="110 city")]}, "slug"),
    ({"targets": [target(backoff_base=10, backoff_cap=1)]}, "backoff_cap"),
    ({"targets": [target(), target()]}, "duplicate target name"),
    ({"evidence": {}}, "public_base_url is required"),
    ({"evidence": {"public_base_url": "vigil.test"}}, "http"),
    ({"evidence": {"public_base_url": BASE, "clip_path": "clips/{id}.mp4"}}, "placeholder"),
    ({"lease": 10, "targets": [target(timeout=5)]}, "lease"),
    ({"cap": {"sender": "vigil, psb"}}, "CAP sender"),
    ({"callback_secret": "whsec_!"}, "not base64"),
])
def test_bad_values_are_refused_with_a_pointer(values: dict[str, Any], message: str) -> None:
    assert message in error(**values)


def test_lease_must_cover_a_whole_batch() -> None:
    cfg = load(batch=100, concurrency=10, lease=60, targets=[target(timeout=5)])
    assert cfg.batch_seconds() == 50
    assert "lease (40 s)" in error(batch=100, concurrency=10, lease=40,
                                   targets=[target(timeout=5)])


def test_target_model_alone() -> None:
    t = DispatchTarget(name="cap", url="http://10.1.2.3:8080/cap", secret="x", format="cap",
                       levels=[1], categories=["stolen"], include_review_only=True)
    assert t.format == "cap" and t.levels == [1]


def test_the_documented_example_is_valid() -> None:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    env = {"DISPATCH_CALLBACK_SECRET": "whsec_dmlnaWwtY2FsbGJhY2stdGVzdC1zZWNyZXQ=",
           "DISPATCH_110_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           "DISPATCH_CAP_SECRET": "110-shared-passphrase"}
    data, problems = expand_env(yaml.safe_load(block.group(1)), env)
    assert problems == []
    assert isinstance(data, dict)
    cfg = DispatchConfig.model_validate(data["dispatch"])
    assert [t.name for t in cfg.targets] == ["110-city", "command-cap"]
