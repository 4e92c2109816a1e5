"""CAP 1.2 bodies: parsed back with ElementTree, namespace, required elements, mappings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from alerts.cap import NS, cap_xml, codes, identifier
from core.config.dispatch import CapOptions, EvidenceLinks
from core.messages import AlertState, AlertTransition, CameraState, CameraStatus, TransitionKind
from tests.alerts.test_dispatch_receiver import T0, make_alert

LINKS = EvidenceLinks(public_base_url="https://vigil.test/evidence")
OPTIONS = CapOptions(sender="vigil@psb.example")
Q = f"{{{NS}}}"
ALERT_ORDER = ["identifier", "sender", "sent", "status", "msgType", "source", "scope",
               "restriction", "addresses", "code", "note", "references", "incidents", "info"]
INFO_ORDER = ["language", "category", "event", "responseType", "urgency", "severity",
              "certainty", "audience", "eventCode", "effective", "onset", "expires",
              "senderName", "headline", "description", "instruction", "web", "contact",
              "parameter", "resource", "area"]
"""Element order of the CAP 1.2 schema (sequences: order matters to validators)."""


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def local(node: ET.Element) -> str:
    assert node.tag.startswith(Q), f"{node.tag} is outside the CAP 1.2 namespace"
    return node.tag.removeprefix(Q)


def in_order(node: ET.Element, order: list[str]) -> bool:
    positions = [order.index(local(child)) for child in node]
    return positions == sorted(positions)


def text(node: ET.Element, path: str) -> str:
    found = node.find("/".join(Q + part for part in path.split("/")))
    assert found is not None and found.text is not None, f"missing {path}"
    return found.text


def test_alert_has_required_elements_in_schema_order_and_namespace() -> None:
    alert = make_alert(3)
    root = parse(cap_xml(alert, LINKS, OPTIONS))
    assert root.tag == f"{Q}alert" and in_order(root, ALERT_ORDER)
    assert text(root, "identifier") == f"vigil-{alert.alert_id}"
    assert text(root, "sender") == "vigil@psb.example"
    assert text(root, "sent") == "2023-11-15T06:13:23+08:00"
    assert (text(root, "status"), text(root, "msgType"), text(root, "scope")) == (
        "Actual", "Alert", "Restricted")
    assert text(root, "restriction")
    info = root.find(f"{Q}info")
    assert info is not None and in_order(info, INFO_ORDER)
    assert (text(info, "language"), text(info, "category"), text(info, "event")) == (
        "zh-CN", "Security", "盗抢车辆")
    assert (text(info, "urgency"), text(info, "severity"), text(info, "certainty")) == (
        "Immediate", "Extreme", "Likely")
    assert text(info, "headline") == alert.summary_zh
    assert alert.summary_en in text(info, "description")
    assert text(info, "area/areaDesc") == "解放路与人民路交叉口"
    assert text(info, "area/circle") == "39.916527,116.397128 0.1"
    params = {text(p, "valueName"): text(p, "value") for p in info.iter(f"{Q}parameter")}
    assert params["vigil:alert_id"] == alert.alert_id and params["vigil:plate"] == "京AD12345"


def test_resources_point_at_the_evidence() -> None:
    alert = make_alert(3)
    info = parse(cap_xml(alert, LINKS, OPTIONS)).find(f"{Q}info")
    assert info is not None
    found = [(text(r, "mimeType"), text(r, "uri")) for r in info.iter(f"{Q}resource")]
    assert found == [
        ("image/jpeg", "https://vigil.test/evidence/snap/2023/11/15/s-3.jpg"),
        ("image/jpeg", "https://vigil.test/evidence/snap/2023/11/15/s-3-p.jpg"),
        ("video/mp4", f"https://vigil.test/evidence/clips/{alert.alert_id}.mp4")]
    assert all(text(r, "resourceDesc") for r in info.iter(f"{Q}resource"))


@pytest.mark.parametrize(("level", "review_only", "expected"), [
    (1, False, ("Immediate", "Extreme", "Likely")),
    (2, False, ("Immediate", "Severe", "Likely")),
    (3, False, ("Expected", "Moderate", "Likely")),
    (4, False, ("Future", "Minor", "Possible")),
    (1, True, ("Immediate", "Extreme", "Possible")),
])
def test_level_mapping(level: int, review_only: bool, expected: tuple[str, str, str]) -> None:
    assert codes(make_alert(1, level=level, review_only=review_only)) == expected


@pytest.mark.parametrize(("to_state", "msg_type"), [
    (AlertState.SIGNED, "Update"), (AlertState.CLOSED, "Update"),
    (AlertState.DISMISSED, "Cancel")])
def test_later_transitions_are_updates_or_cancels_referencing_the_original(
        to_state: AlertState, msg_type: str) -> None:
    alert = make_alert(1)
    update = AlertTransition(alert.alert_id, TransitionKind.TRANSITION, AlertState.NEW, to_state,
                             "alice", T0 + 60, "plate misread")
    root = parse(cap_xml(alert, LINKS, OPTIONS, update))
    assert in_order(root, ALERT_ORDER)
    assert text(root, "msgType") == msg_type
    assert text(root, "identifier") == identifier(alert, update) != identifier(alert)
    assert text(root, "sent") == "2023-11-15T06:14:20+08:00"
    original = parse(cap_xml(alert, LINKS, OPTIONS))
    assert text(root, "references") == ",".join(
        (text(original, "sender"), text(original, "identifier"), text(original, "sent")))
    assert "plate misread" in text(root, "note")


def test_non_wgs84_positions_are_not_written_as_a_circle() -> None:
    alert = replace(make_alert(1), crs="GCJ02")
    info = parse(cap_xml(alert, LINKS, OPTIONS)).find(f"{Q}info")
    assert info is not None
    assert info.find(f"{Q}area/{Q}circle") is None
    params = {text(p, "valueName"): text(p, "value") for p in info.iter(f"{Q}parameter")}
    assert params["vigil:location"] == "GCJ02 39.916527,116.397128"


def test_camera_health_alert_without_evidence_or_position() -> None:
    status = CameraStatus("gate-2", CameraState.STALLED, T0)
    alert = replace(make_alert(1, category="camera_health", level=3), observation=status,
                    lon=None, lat=None, address="", summary_zh="", summary_en="")
    info = parse(cap_xml(alert, LINKS, OPTIONS)).find(f"{Q}info")
    assert info is not None
    assert info.find(f"{Q}resource") is None
    assert text(info, "event") == "摄像机故障" == text(info, "headline")
    assert text(info, "area/areaDesc") == "解放路口东向"


def test_building_twice_gives_the_same_bytes() -> None:
    alert = make_alert(5)
    assert cap_xml(alert, LINKS, OPTIONS) == cap_xml(alert, LINKS, OPTIONS)
