"""The alert envelope: every field of docs/integration.md §4, one time format, evidence URLs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from alerts.envelope import build_envelope, dumps, evidence_url, iso_time
from core.clock import FakeClock
from core.config.dispatch import EvidenceLinks
from core.lifecycle import Action, transition
from core.messages import Alert, CameraState, CameraStatus, Evidence, SceneEvent, SceneKind
from core.store import AlertRecord, open_store
from tests.alerts.test_dispatch_receiver import GB_CAMERA, T0, make_alert

LINKS = EvidenceLinks(public_base_url="https://vigil.test/evidence/")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def body(alert: Alert, record: AlertRecord | None = None) -> Any:
    """The envelope as a receiver sees it (parsed from the exact body text)."""
    return json.loads(dumps(build_envelope(alert, LINKS, record)))


@pytest.mark.parametrize(("at", "text"), [
    (0.0, "1970-01-01T08:00:00+08:00"),
    (T0, "2023-11-15T06:13:20+08:00"),
    (T0 + 0.999, "2023-11-15T06:13:20+08:00"),  # truncated, never later than it happened
    (None, None),
])
def test_iso_time_is_whole_seconds_at_plus_eight(at: float | None, text: str | None) -> None:
    assert iso_time(at) == text


def test_envelope_carries_every_field_of_the_contract() -> None:
    alert = make_alert(7)
    env = body(alert)
    assert env["type"] == "alert.raised" and env["version"] == 1
    assert env["alert_id"] == env["idempotency_key"] == alert.alert_id
    assert (env["rule_id"], env["disposition_id"], env["category"], env["level"]) == (
        "stolen-vehicles", "wl-2023-0042", "stolen", 1)
    assert (env["state"], env["review_only"]) == ("new", False)
    assert env["plate"] == {"normalized": "京AD12345", "raw": "京AD·12345", "type": "ne_small_8",
                            "color": "green", "confidence": 0.934}
    assert env["camera"] == {"id": GB_CAMERA, "gb_id": GB_CAMERA, "name": "解放路口东向",
                             "address": "解放路与人民路交叉口"}
    assert env["location"] == {"lon": 116.397128, "lat": 39.916527, "crs": "WGS84"}
    assert env["event_time"] == "2023-11-15T06:13:27+08:00"
    assert env["summary"] == {"zh": alert.summary_zh, "en": alert.summary_en}
    evidence = env["evidence"]
    assert evidence["snapshot_url"] == "https://vigil.test/evidence/snap/2023/11/15/s-7.jpg"
    assert evidence["plate_crop_url"] == "https://vigil.test/evidence/snap/2023/11/15/s-7-p.jpg"
    assert evidence["clip"] == {
        "url": f"https://vigil.test/evidence/clips/{alert.alert_id}.mp4",
        "from": "2023-11-15T06:13:19+08:00", "to": "2023-11-15T06:13:34+08:00",
        "pre_event_seconds": 8.0, "post_event_seconds": 7.0}
    stamps = env["timestamps"]
    assert sorted(stamps) == ["closed", "created", "dismissed", "disposed", "feedback",
                              "pushed", "signed"]
    assert stamps["created"] == env["event_time"] and stamps["signed"] is None
    assert env["update"] is None


TIME_KEYS = {"event_time", "from", "to", "at", "created", "pushed", "signed", "disposed",
             "feedback", "closed", "dismissed"}


def _times(value: object) -> list[str]:
    if not isinstance(value, dict):
        return []
    found: list[str] = []
    for key, item in value.items():
        found += [item] if key in TIME_KEYS and isinstance(item, str) else _times(item)
    return found


def test_every_time_in_the_body_has_the_one_format() -> None:
    found = _times(body(make_alert(1)))
    assert len(found) == 4 and all(ISO.match(t) for t in found)


def test_stored_record_supplies_state_and_workflow_timestamps(tmp_path: Path) -> None:
    clock = FakeClock(T0 + 100)
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}", clock)
    try:
        record = store.insert_alert(make_alert(1))
        store.mark_published([record.alert.alert_id])
        step = transition(record.case, Action.SIGN, "alice", T0 + 130)
        record = store.append_transition(step, record.case)
    finally:
        store.close()
    env = body(record.alert, record)
    assert env["state"] == "signed"
    assert env["timestamps"] == {
        "created": iso_time(T0 + 1), "pushed": iso_time(T0 + 100), "signed": iso_time(T0 + 130),
        "disposed": None, "feedback": None, "closed": None, "dismissed": None}


def test_scene_and_camera_alerts_have_no_plate_and_slug_cameras_no_gb_id() -> None:
    base = make_alert(1, category="intrusion", camera="gate-2")
    event = SceneEvent("e-1", "gate-2", SceneKind.INTRUSION, "yard", (3,), T0,
                       Evidence(snapshot="https://cdn.test/x.jpg"))
    env = body(replace(base, observation=event, lon=None, lat=None))
    assert env["plate"] is None and env["location"] is None
    assert env["camera"]["gb_id"] is None
    assert env["evidence"] == {"snapshot_url": "https://cdn.test/x.jpg", "plate_crop_url": None,
                               "clip": None}
    status = CameraStatus("gate-2", CameraState.STALLED, T0)
    env = body(replace(base, observation=status))
    assert env["evidence"] == {"snapshot_url": None, "plate_crop_url": None, "clip": None}


def test_evidence_urls_are_quoted_and_absolute_refs_kept() -> None:
    assert evidence_url(LINKS, "/snap/京A 1.jpg") == (
        "https://vigil.test/evidence/snap/%E4%BA%ACA%201.jpg")
    assert evidence_url(LINKS, "http://nvr.local/a.jpg") == "http://nvr.local/a.jpg"
    assert evidence_url(LINKS, None) is None and evidence_url(LINKS, "") is None


def test_body_text_is_compact_utf8_and_round_trips() -> None:
    env = build_envelope(make_alert(1), LINKS)
    text = dumps(env)
    assert "京AD12345" in text and "\\u" not in text and '","' in text
    assert json.loads(text) == env


def test_the_documented_example_is_what_the_code_produces() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "dispatch.md").read_text("utf-8")
    block = re.search(r"```json\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    alert = replace(make_alert(7), alert_id="0b6c5d3e-8f7a-4c1b-9e2d-3f4a5b6c7d8e")
    links = EvidenceLinks(public_base_url="https://vigil.example.gov.cn/evidence")
    record = AlertRecord(seq=42, alert=alert, pushed_at=T0 + 8.4)
    assert json.loads(block.group(1)) == build_envelope(alert, links, record)
