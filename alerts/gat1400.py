"""GA/T 1400 (视图库) export shapes: plate captures and watchlist hits (docs/integration.md §2).

Platforms built on GA/T 1400 take plate captures as ``MotorVehicleObject`` (``POST
/VIID/MotorVehicles``) and watchlist hits as ``DispositionNotificationObject`` (``POST
/VIID/DispositionNotifications``), both as ``application/VIID+JSON``. This module only builds
the objects; transport (Digest registration, keep-alive) belongs to whoever sends them.

Identifiers follow the GA/T 1400 composition, minted by the capturing camera:

* ``ImageID`` (41) = camera DeviceID (20) + ``02`` (image) + shot time ``yyyyMMddHHmmss``
  (14) + serial (5);
* ``SourceID`` = the ``ImageID`` of the picture the vehicle was found in (the first scene or
  vehicle image), or one minted the same way when no picture is exported;
* ``MotorVehicleID`` (48) = ``SourceID`` (41) + ``02`` (motor vehicle) + serial (5).

Serials are derived from the sighting id (a hash, mod 100000) instead of a counter, so
exporting the same sighting twice yields the same ids and receivers de-duplicate it; two
different sightings of one camera in the same second collide with probability 1/100000.

Times (``PassTime``, ``ShotTime``, ``TriggerTime``) are ``yyyyMMddHHmmss`` at +08:00.
``PassTime`` is the sighting's ``last_seen`` (the moment the plate vote settled, which is
also when an alert is raised). Values Vigil does not measure are given their "unknown"
form and documented in docs/dispatch.md: ``LaneNo`` 0, ``Speed`` 0, ``Direction`` "",
``VehicleColor`` "99", ``PlateCharReliability`` "" unless per-character confidences are
passed, image ``Width``/``Height`` 0 unless known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from alerts.envelope import CHINA, evidence_url
from core.config.dispatch import EvidenceLinks
from core.gbid import parse_gb_id
from core.messages import Alert, Box, Sighting
from core.plates import COLOR_CODES, plate_class
from core.store import JsonObject, JsonValue, WatchlistRow

CONTENT_TYPE = "application/VIID+JSON"
IMAGE_TYPES: dict[str, str] = {"vehicle": "01", "plate": "02", "scene": "14"}
"""``SubImageInfo.Type`` by image kind (docs/integration.md §2)."""
IMAGE_CODE = "02"
"""Sub-type of an ``ImageID`` (``01`` would be a video clip)."""
MOTOR_VEHICLE_CODE = "02"
"""Object type inside a ``MotorVehicleID``."""
INFO_KIND_AUTO = 1
"""``InfoKind``: 1 = collected automatically (0 other, 2 entered by hand)."""
UNKNOWN_COLOR = COLOR_CODES["other"]

ImageKind = Literal["vehicle", "plate", "scene"]


@dataclass(frozen=True, slots=True)
class SubImage:
    """One exported picture. ``storage_path`` is a URL the receiver can fetch."""

    kind: ImageKind
    storage_path: str
    width: int = 0
    height: int = 0
    file_format: str = "Jpeg"
    shot_time: float | None = None
    """POSIX seconds; ``None`` means the sighting's ``PassTime``."""


@dataclass(frozen=True, slots=True)
class VehicleExtras:
    """What a checkpoint knows that a sighting does not (all optional)."""

    tollgate_id: str = ""
    lane_no: int = 0
    is_decked: bool = False
    """Cloned plate (套牌) confirmed by a person."""
    vehicle_color: str = UNKNOWN_COLOR
    """GA/T 1400 colour code (1 black, 2 white, 3 grey, 5 blue, 6 yellow, 9 green, 99 other)."""
    direction: str = ""
    speed: float = 0.0
    char_confidences: tuple[float, ...] = ()
    """Per-character plate confidences 0–1 (same length as the plate), if kept."""


def viid_time(at: float) -> str:
    """``yyyyMMddHHmmss`` at +08:00 for POSIX seconds ``at``."""
    return datetime.fromtimestamp(at, UTC).astimezone(CHINA).strftime("%Y%m%d%H%M%S")


def serial(seed: str, digits: int = 5) -> str:
    """A stable ``digits``-digit serial derived from ``seed``."""
    value = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big")
    return f"{value % 10**digits:0{digits}d}"


def image_id(device_id: str, at: float, seed: str) -> str:
    """41-character ``ImageID``: device (20) + ``02`` + time (14) + serial (5)."""
    return f"{device_id}{IMAGE_CODE}{viid_time(at)}{serial(seed)}"


def _require_gb(value: str, what: str) -> str:
    if parse_gb_id(value) is None:
        raise ValueError(f"{what} {value!r} is not a 20-digit GB/T 28181 device id; GA/T 1400 "
                         f"ids are built from it (give the camera a 20-digit id)")
    return value


def evidence_images(sighting: Sighting, links: EvidenceLinks) -> list[SubImage]:
    """The sighting's pictures as sub-images: snapshot → scene (14), plate crop → plate (02)."""
    found: list[SubImage] = []
    scene = evidence_url(links, sighting.evidence.snapshot)
    if scene is not None:
        found.append(SubImage("scene", scene))
    crop = evidence_url(links, sighting.evidence.plate_crop)
    if crop is not None:
        found.append(SubImage("plate", crop))
    return found


def _reliability(confidence: float) -> int:
    return max(0, min(100, round(confidence * 100)))


def _char_reliability(plate: str, confidences: Sequence[float]) -> str:
    """``苏-80,B-90,...``; empty when the confidences do not fit the plate."""
    if not plate or len(confidences) != len(plate):
        return ""
    return ",".join(f"{c}-{_reliability(p)}" for c, p in zip(plate, confidences, strict=True))


def _box(box: Box | None) -> JsonObject:
    x1, y1, x2, y2 = (round(v) for v in box) if box is not None else (0, 0, 0, 0)
    return {"LeftTopX": x1, "LeftTopY": y1, "RightBtmX": x2, "RightBtmY": y2}


def _sub_images(images: Sequence[SubImage], camera_id: str, sighting: Sighting,
                ) -> list[JsonObject]:
    out: list[JsonObject] = []
    for index, image in enumerate(images):
        at = sighting.last_seen if image.shot_time is None else image.shot_time
        out.append({
            "ImageID": image_id(camera_id, at, f"{sighting.sighting_id}/{index}/{image.kind}"),
            "DeviceID": camera_id, "Type": IMAGE_TYPES[image.kind],
            "FileFormat": image.file_format, "Width": image.width, "Height": image.height,
            "ShotTime": viid_time(at), "StoragePath": image.storage_path,
        })
    return out


def _source_id(subs: Sequence[JsonObject], images: Sequence[SubImage],
               camera_id: str, sighting: Sighting) -> str:
    """The ImageID of the picture the vehicle was found in (not the plate crop)."""
    for sub, image in zip(subs, images, strict=True):
        if image.kind != "plate":
            return str(sub["ImageID"])
    return image_id(camera_id, sighting.last_seen, f"{sighting.sighting_id}/source")


def _plate_fields(sighting: Sighting, extra: VehicleExtras) -> JsonObject:
    plate = sighting.plate
    return {
        "HasPlate": "1" if plate else "0",
        "PlateClass": plate_class(plate, sighting.color) if plate else "99",
        "PlateColor": COLOR_CODES.get(sighting.color, UNKNOWN_COLOR), "PlateNo": plate,
        "PlateReliability": str(_reliability(sighting.confidence)),
        "PlateCharReliability": _char_reliability(plate, extra.char_confidences),
    }


def motor_vehicle_object(sighting: Sighting, camera_id: str, device_id: str | None = None,
                         images: Sequence[SubImage] = (),
                         extra: VehicleExtras = VehicleExtras()) -> JsonObject:
    """The ``MotorVehicleObject`` of one sighting.

    ``camera_id`` is the capturing camera's 20-digit id (it mints ImageID/SourceID/
    MotorVehicleID); ``device_id`` is the ``DeviceID`` to report when it differs (a
    checkpoint device whose channel the camera is), by default ``camera_id``. Raises
    ``ValueError`` if either is not a 20-digit id.
    """
    _require_gb(camera_id, "camera_id")
    device = _require_gb(device_id or camera_id, "device_id")
    subs = _sub_images(images, camera_id, sighting)
    source_id = _source_id(subs, images, camera_id, sighting)
    big = [i.storage_path for i in images if i.kind != "plate"] or [""]
    listed: list[JsonValue] = list(subs)
    return {
        "MotorVehicleID": (f"{source_id}{MOTOR_VEHICLE_CODE}"
                           f"{serial(sighting.sighting_id + '/vehicle')}"),
        "InfoKind": INFO_KIND_AUTO, "SourceID": source_id, "DeviceID": device,
        "TollgateID": extra.tollgate_id, "LaneNo": extra.lane_no,
        **_box(sighting.evidence.box), "PassTime": viid_time(sighting.last_seen),
        **_plate_fields(sighting, extra), "IsDecked": "1" if extra.is_decked else "0",
        "VehicleColor": extra.vehicle_color, "Direction": extra.direction,
        "Speed": round(extra.speed), "StorageUrl1": big[0],
        "SubImageList": {"SubImageInfoObject": listed},
    }


def motor_vehicle_list(objects: Sequence[JsonObject]) -> JsonObject:
    """The ``POST /VIID/MotorVehicles`` body."""
    items: list[JsonValue] = list(objects)
    return {"MotorVehicleListObject": {"MotorVehicleObject": items}}


def notification_id(alert: Alert) -> str:
    """``NotificationID``: the alert id without dashes (unique, and traceable to the alert)."""
    return alert.alert_id.replace("-", "")


def disposition_notification(alert: Alert, vehicle: JsonObject,
                             entry: WatchlistRow | None = None) -> JsonObject:
    """The ``DispositionNotificationObject`` of a watchlist hit.

    ``vehicle`` is the matched ``MotorVehicleObject`` (:func:`motor_vehicle_object`);
    ``entry`` the watchlist entry (its id is the ``DispositionID``; without it the alert's
    ``watchlist_entry_id`` is used). Raises ``ValueError`` for an alert with neither.
    """
    disposition_id = entry.entry_id if entry is not None else alert.watchlist_entry_id
    if not disposition_id:
        raise ValueError(f"alert {alert.alert_id} has no watchlist entry: it is not a "
                         f"disposition hit and has no DispositionNotification")
    title = (entry.reason if entry is not None and entry.reason else "") or alert.summary_zh
    return {
        "NotificationID": notification_id(alert), "DispositionID": disposition_id,
        "Title": title, "TriggerTime": viid_time(alert.raised_at),
        "CntObjectID": vehicle.get("MotorVehicleID", ""), "MotorVehicleObject": vehicle,
    }


def disposition_notification_list(notifications: Sequence[JsonObject]) -> JsonObject:
    """The ``POST /VIID/DispositionNotifications`` body."""
    items: list[JsonValue] = list(notifications)
    return {"DispositionNotificationListObject": {"DispositionNotificationObject": items}}
