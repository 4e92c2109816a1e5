"""Schemathesis over the app's own OpenAPI document, as the bootstrap admin: whatever the
generated input, no endpoint answers 5xx, and 2xx bodies match their response models.

The store is seeded with alerts, sightings and a dead letter so the generated ids hit real
rows some of the time. Examples per operation are bounded to keep the run under a minute.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from core.store import DispatchRequest
from tests.console.support import BOOTSTRAP, Rig, build_rig, make_alert, sighting

EXAMPLES = 25


def seeded_rig() -> Rig:
    """Built at import: ``schema.parametrize`` needs the app when pytest collects (the
    fixture-based loader does not work with this pytest)."""
    rig = build_rig(Path(tempfile.mkdtemp(prefix="vigil-fuzz-")))
    for n in range(3):
        record = rig.store.insert_alert(make_alert(n))
        rig.store.add_sighting(sighting(n))
        item = rig.store.enqueue_dispatch(DispatchRequest(record.alert.alert_id, "110",
                                                          f"wh-{n}", "{}"))
        rig.store.mark_dead(item.id, "gave up")
    return rig


RIG = seeded_rig()
schema = schemathesis.openapi.from_asgi("/openapi.json", RIG.app)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    RIG.store.close()
    shutil.rmtree(RIG.store.url.removeprefix("sqlite:///").rsplit("/", 1)[0],
                  ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_server_errors(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {BOOTSTRAP}"},
                           checks=[not_a_server_error, response_schema_conformance])
