"""Fixtures for the console tests (plain builders live in ``support``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.console.support import Rig, build_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    built = build_rig(tmp_path)
    try:
        yield built
    finally:
        built.store.close()


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    async with rig.client() as client:
        yield client
