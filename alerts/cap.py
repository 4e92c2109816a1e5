"""OASIS CAP 1.2 bodies for targets that speak the Common Alerting Protocol.

CAP is the alternative to the JSON envelope (docs/integration.md §4) for command systems that
already consume emergency alerts. The XML follows the CAP 1.2 schema's element order
(``alert`` → ``info`` → ``parameter`` → ``resource`` → ``area``), so strict validators pass.

Choices, and why:

* ``identifier`` is ``vigil-<alert_id>`` for the first message and
  ``vigil-<alert_id>-<state>-<unix seconds>`` for an update; ``sent`` is the event time (the
  raise, or the transition), never "now", so rebuilding a message yields the same bytes and
  an ``Update``/``Cancel`` can name the original in ``references`` without looking it up.
* ``msgType``: ``Alert`` when raised, ``Cancel`` when dismissed (a false alarm), ``Update``
  for every other later transition.
* Level → urgency / severity / certainty (level 1 is the most urgent)::

      1 → Immediate / Extreme  / Likely
      2 → Immediate / Severe   / Likely
      3 → Expected  / Moderate / Likely
      4 → Future    / Minor    / Possible

  Certainty is never ``Observed``: a camera and a plate reader saw it, no person has yet.
  A review-only alert (cloned plate) is ``Possible`` whatever its level.
* ``circle`` is only written for WGS84 / CGCS2000 positions (CAP requires WGS84; the two
  agree to centimetres). GCJ-02 and BD-09 positions are offset by hundreds of metres, so
  they go into a ``vigil:location`` parameter with their ``crs`` instead of a wrong circle.
"""

from __future__ import annotations

import mimetypes
import xml.etree.ElementTree as ET

from alerts.envelope import clip_url, evidence_url, iso_time
from alerts.summaries import CATEGORY_LABELS, CONDITION_LABELS, SCENE_LABELS
from core.config.dispatch import CapOptions, EvidenceLinks
from core.messages import Alert, AlertState, AlertTransition, SceneEvent, Sighting

NS = "urn:oasis:names:tc:emergency:cap:1.2"
CONTENT_TYPE = "application/cap+xml"
LEVEL_CODES: dict[int, tuple[str, str, str]] = {
    1: ("Immediate", "Extreme", "Likely"),
    2: ("Immediate", "Severe", "Likely"),
    3: ("Expected", "Moderate", "Likely"),
    4: ("Future", "Minor", "Possible"),
}
"""Alert level → CAP (urgency, severity, certainty)."""
EVENT_LABELS: dict[str, str] = {
    **{key: zh for key, (zh, _) in CATEGORY_LABELS.items()},
    **{key: zh for key, (zh, _) in SCENE_LABELS.items()},
    "key_vehicle": "重点车辆", "cloned_suspect": "疑似套牌车辆", "custom": "布控车辆",
    "cloned_plate": "疑似套牌车辆", "camera_health": "摄像机故障",
}
"""CAP ``event`` text per alert category (zh-CN, the info language)."""
_WGS84_LIKE = frozenset({"WGS84", "CGCS2000"})


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        node.text = text
    return node


def identifier(alert: Alert, update: AlertTransition | None = None) -> str:
    """CAP ``identifier`` (no spaces, commas or reserved characters)."""
    if update is None:
        return f"vigil-{alert.alert_id}"
    return f"vigil-{alert.alert_id}-{update.to_state.value}-{int(update.at)}"


def msg_type(update: AlertTransition | None) -> str:
    if update is None:
        return "Alert"
    return "Cancel" if update.to_state == AlertState.DISMISSED else "Update"


def codes(alert: Alert) -> tuple[str, str, str]:
    """(urgency, severity, certainty) of ``alert`` (see the module docstring)."""
    urgency, severity, certainty = LEVEL_CODES.get(alert.level, LEVEL_CODES[4])
    return urgency, severity, "Possible" if alert.review_only else certainty


def _event(alert: Alert) -> str:
    if alert.category in EVENT_LABELS:
        return EVENT_LABELS[alert.category]
    if alert.category in CONDITION_LABELS:
        return f"摄像机{CONDITION_LABELS[alert.category][0]}"
    return alert.category or "预警"


def _header(root: ET.Element, alert: Alert, options: CapOptions,
            update: AlertTransition | None) -> None:
    _sub(root, "identifier", identifier(alert, update))
    _sub(root, "sender", options.sender)
    _sub(root, "sent", iso_time(alert.raised_at if update is None else update.at))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", msg_type(update))
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", options.restriction)
    if update is not None:
        _sub(root, "note", f"{update.from_state.value} -> {update.to_state.value} "
                           f"by {update.by}: {update.note}".strip())
        original = f"{options.sender},{identifier(alert)},{iso_time(alert.raised_at)}"
        _sub(root, "references", original)
    _sub(root, "incidents", alert.alert_id)


def _parameters(info: ET.Element, alert: Alert) -> None:
    values = {"vigil:alert_id": alert.alert_id, "vigil:rule_id": alert.rule_id,
              "vigil:level": str(alert.level), "vigil:category": alert.category,
              "vigil:camera_id": alert.camera_id}
    if isinstance(alert.observation, Sighting) and alert.observation.plate:
        values["vigil:plate"] = alert.observation.plate
    if alert.watchlist_entry_id:
        values["vigil:disposition_id"] = alert.watchlist_entry_id
    if alert.lon is not None and alert.lat is not None and alert.crs not in _WGS84_LIKE:
        values["vigil:location"] = f"{alert.crs} {alert.lat},{alert.lon}"
    for name, value in values.items():
        param = _sub(info, "parameter")
        _sub(param, "valueName", name)
        _sub(param, "value", value)


def _resources(info: ET.Element, alert: Alert, links: EvidenceLinks) -> None:
    obs = alert.observation
    if not isinstance(obs, Sighting | SceneEvent):
        return
    ev = obs.evidence
    clip = clip_url(links, alert) if ev.clip_from is not None else None
    found = [("现场图片 snapshot", evidence_url(links, ev.snapshot), "image/jpeg"),
             ("车牌图片 plate crop", evidence_url(links, ev.plate_crop), "image/jpeg"),
             ("录像片段 video clip", clip, "video/mp4")]
    for desc, uri, default_type in found:
        if uri is None:
            continue
        resource = _sub(info, "resource")
        _sub(resource, "resourceDesc", desc)
        _sub(resource, "mimeType", mimetypes.guess_type(uri)[0] or default_type)
        _sub(resource, "uri", uri)


def _area(info: ET.Element, alert: Alert, options: CapOptions) -> None:
    area = _sub(info, "area")
    _sub(area, "areaDesc", alert.address or alert.camera_name or alert.camera_id or "unknown")
    if alert.lon is not None and alert.lat is not None and alert.crs in _WGS84_LIKE:
        _sub(area, "circle", f"{alert.lat:.6f},{alert.lon:.6f} {options.radius_km:g}")


def _info(root: ET.Element, alert: Alert, links: EvidenceLinks, options: CapOptions) -> None:
    info = _sub(root, "info")
    urgency, severity, certainty = codes(alert)
    _sub(info, "language", options.language)
    _sub(info, "category", "Security")
    _sub(info, "event", _event(alert))
    _sub(info, "urgency", urgency)
    _sub(info, "severity", severity)
    _sub(info, "certainty", certainty)
    _sub(info, "senderName", options.sender_name)
    headline = (alert.summary_zh or alert.summary_en or _event(alert)).splitlines()[0]
    _sub(info, "headline", headline[:160])
    description = "\n".join(s for s in (alert.summary_zh, alert.summary_en) if s)
    _sub(info, "description", description or headline)
    _parameters(info, alert)
    _resources(info, alert, links)
    _area(info, alert, options)


def cap_xml(alert: Alert, links: EvidenceLinks, options: CapOptions,
            update: AlertTransition | None = None) -> str:
    """The CAP 1.2 document for ``alert`` (or for ``update``, a later transition of it)."""
    root = ET.Element(f"{{{NS}}}alert")
    _header(root, alert, options, update)
    _info(root, alert, links, options)
    body: str = ET.tostring(root, encoding="unicode", default_namespace=NS)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body
