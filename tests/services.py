"""The one place a test says "a service I need is missing": skip here, fail under CI.

Some tests need a program or server Vigil integrates with: the GStreamer RTSP server and
nginx-rtmp (Debian packages that ``make test`` installs), Redis and PostgreSQL (servers
``make services`` starts). On a developer's machine a missing package is a skip that names
the install command, so the rest of the suite still runs. On a CI machine (``CI=true``, set
by ``.ci/run`` and by CI systems) the same absence is a failure: a runner without the
packages must not turn the RTSP, RTMP or Redis tests into a green run that tested nothing.

Redis and PostgreSQL are stricter even outside CI: they are part of ``make test`` and fail
unless the developer opts out explicitly (``VIGIL_SKIP_REDIS=1``, ``VIGIL_SKIP_POSTGRES=1``);
CI ignores those opt-outs.
"""

from __future__ import annotations

import functools
import os
from typing import NoReturn

import pytest
import redis

REDIS_URL = os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
"""The Redis the tests use (the local server ``make services`` starts)."""
SKIP_REDIS = "VIGIL_SKIP_REDIS"


def in_ci() -> bool:
    """True on a CI machine: ``CI`` set to anything but empty, ``0`` or ``false``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str, opt_out: str | None = None) -> NoReturn:
    """Stop the current test because a service it needs is missing.

    Without ``opt_out`` the test is skipped (a developer machine may lack a Debian
    package); with it, the test fails unless that environment variable is ``1``. Under CI
    it always fails, whatever the environment says.
    """
    if in_ci():
        pytest.fail(f"{reason}\n(CI: a missing service fails the test instead of skipping it)",
                    pytrace=False)
    if opt_out is None or os.environ.get(opt_out) == "1":
        pytest.skip(reason)
    pytest.fail(f"{reason}; or set {opt_out}=1 to skip these tests", pytrace=False)


def require(reason: str | None, opt_out: str | None = None) -> None:
    """Nothing when ``reason`` is None (the service is there); else :func:`unavailable`."""
    if reason is not None:
        unavailable(reason, opt_out)


@functools.cache
def redis_missing(url: str = REDIS_URL) -> str | None:
    """Why Redis at ``url`` cannot be used, or None when it answers PING (asked once)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis at {url} is unreachable ({exc}); start it with `make services`"
    finally:
        client.close()
    return None


def redis_url() -> str:
    """The test Redis URL, after checking that it answers (else skip or fail, see above)."""
    require(redis_missing(REDIS_URL), SKIP_REDIS)
    return REDIS_URL
