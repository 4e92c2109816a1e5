"""tests/services.py: a missing RTSP/RTMP/Redis/PostgreSQL service skips on a developer's
machine and fails under CI, so a CI runner without the packages cannot pass by skipping."""

from __future__ import annotations

import pytest

from tests import services


@pytest.mark.parametrize(("value", "ci"), [
    ("", False), ("0", False), ("false", False), ("False", False), ("no", False),
    ("true", True), ("1", True), ("yes", True), ("TRUE", True),
])
def test_ci_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str,
                                         ci: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert services.in_ci() is ci


def test_without_ci_a_missing_package_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nginx-rtmp missing"):
        services.require("nginx-rtmp missing")


def test_under_ci_a_missing_package_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="GStreamer RTSP server not usable"):
        services.require("GStreamer RTSP server not usable")


def test_a_present_service_neither_skips_nor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    services.require(None)


def test_a_server_fails_unless_opted_out_and_ci_ignores_the_opt_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("VIGIL_SKIP_REDIS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="VIGIL_SKIP_REDIS=1"):
        services.unavailable("Redis down", opt_out="VIGIL_SKIP_REDIS")
    monkeypatch.setenv("VIGIL_SKIP_REDIS", "1")
    with pytest.raises(pytest.skip.Exception):
        services.unavailable("Redis down", opt_out="VIGIL_SKIP_REDIS")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI"):
        services.unavailable("Redis down", opt_out="VIGIL_SKIP_REDIS")


def test_an_unreachable_redis_is_named_with_the_fix() -> None:
    reason = services.redis_missing("redis://127.0.0.1:1/0")
    assert reason is not None and "make services" in reason
