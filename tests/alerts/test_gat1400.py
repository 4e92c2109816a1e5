"""GA/T 1400 exports checked against the field lists of docs/integration.md §2."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from alerts.gat1400 import (
    SubImage,
    VehicleExtras,
    disposition_notification,
    disposition_notification_list,
    evidence_images,
    motor_vehicle_list,
    motor_vehicle_object,
    viid_time,
)
from core.config.dispatch import EvidenceLinks
from core.messages import Sighting
from core.store import WatchlistRow
from tests.alerts.test_dispatch_receiver import GB_CAMERA, T0, make_alert

LINKS = EvidenceLinks(public_base_url="https://vigil.test/evidence")
TIME = r"^\d{14}$"
ID20 = r"^\d{20}$"
MOTOR_VEHICLE_FIELDS: dict[str, tuple[type, str | None]] = {
    "MotorVehicleID": (str, r"^\d{48}$"), "InfoKind": (int, None), "SourceID": (str, r"^\d{41}$"),
    "DeviceID": (str, ID20), "TollgateID": (str, None), "LaneNo": (int, None),
    "LeftTopX": (int, None), "LeftTopY": (int, None), "RightBtmX": (int, None),
    "RightBtmY": (int, None), "PassTime": (str, TIME), "HasPlate": (str, r"^[01]$"),
    "PlateClass": (str, r"^\d{2}$"), "PlateColor": (str, r"^\d{1,2}$"), "PlateNo": (str, None),
    "PlateReliability": (str, r"^(100|[1-9]?\d)$"), "PlateCharReliability": (str, None),
    "IsDecked": (str, r"^[01]$"), "VehicleColor": (str, r"^\d{1,2}$"), "Direction": (str, None),
    "Speed": (int, None), "StorageUrl1": (str, None), "SubImageList": (dict, None),
}
"""docs/integration.md §2 MotorVehicleObject fields → (JSON type, format)."""
SUB_IMAGE_FIELDS: dict[str, tuple[type, str | None]] = {
    "ImageID": (str, r"^\d{41}$"), "DeviceID": (str, ID20), "Type": (str, r"^(01|02|14)$"),
    "FileFormat": (str, None), "Width": (int, None), "Height": (int, None),
    "ShotTime": (str, TIME), "StoragePath": (str, r"^https?://"),
}
NOTIFICATION_FIELDS: dict[str, tuple[type, str | None]] = {
    "NotificationID": (str, r"^\w+$"), "DispositionID": (str, None), "TriggerTime": (str, TIME),
    "MotorVehicleObject": (dict, None),
}


def wire(value: object) -> Any:
    """As the receiver parses it (also proves the object is plain JSON)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def check_fields(obj: dict[str, Any], fields: dict[str, tuple[type, str | None]]) -> None:
    for name, (kind, pattern) in fields.items():
        assert name in obj, f"{name} missing"
        value = obj[name]
        assert type(value) is kind, f"{name}: {type(value).__name__}, expected {kind.__name__}"
        if pattern is not None:
            assert re.search(pattern, str(value)), f"{name}: {value!r} !~ {pattern}"


def sighting(n: int = 1) -> Sighting:
    observation = make_alert(n).observation
    assert isinstance(observation, Sighting)
    return observation


def test_motor_vehicle_object_has_every_listed_field_with_its_format() -> None:
    s = sighting()
    obj = wire(motor_vehicle_object(s, GB_CAMERA, images=evidence_images(s, LINKS)))
    check_fields(obj, MOTOR_VEHICLE_FIELDS)
    subs = obj["SubImageList"]["SubImageInfoObject"]
    assert [sub["Type"] for sub in subs] == ["14", "02"]
    for sub in subs:
        check_fields(sub, SUB_IMAGE_FIELDS)
    assert obj["PassTime"] == "20231115061321" == viid_time(s.last_seen)
    assert (obj["PlateNo"], obj["PlateClass"], obj["PlateColor"]) == ("京AD12345", "52", "9")
    assert (obj["PlateReliability"], obj["HasPlate"], obj["InfoKind"]) == ("93", "1", 1)
    assert (obj["LeftTopX"], obj["LeftTopY"], obj["RightBtmX"], obj["RightBtmY"]) == (
        412, 230, 980, 700)
    assert obj["StorageUrl1"] == subs[0]["StoragePath"]


def test_ids_are_composed_from_the_camera_time_and_a_stable_serial() -> None:
    s = sighting()
    images = evidence_images(s, LINKS)
    obj = motor_vehicle_object(s, GB_CAMERA, images=images)
    source, vehicle = str(obj["SourceID"]), str(obj["MotorVehicleID"])
    assert source.startswith(GB_CAMERA + "02" + "20231115061321")
    assert vehicle.startswith(source + "02")
    subs = wire(obj)["SubImageList"]["SubImageInfoObject"]
    assert source == subs[0]["ImageID"]  # found in the scene picture, not the plate crop
    assert motor_vehicle_object(s, GB_CAMERA, images=images) == obj  # re-export: same ids
    other = motor_vehicle_object(replace(s, sighting_id="s-other"), GB_CAMERA, images=images)
    assert other["MotorVehicleID"] != vehicle


def test_without_pictures_a_source_id_is_still_minted() -> None:
    obj = wire(motor_vehicle_object(sighting(), GB_CAMERA))
    check_fields(obj, MOTOR_VEHICLE_FIELDS)
    assert obj["SubImageList"] == {"SubImageInfoObject": []} and obj["StorageUrl1"] == ""


@pytest.mark.parametrize(("plate", "color", "plate_class", "color_code"), [
    ("京A12345", "blue", "02", "5"), ("京A12345", "yellow", "01", "6"),
    ("冀A1234挂", "yellow", "15", "6"), ("京A1234警", "white", "23", "2"),
    ("使123456", "black", "03", "1"), ("京A12345F", "yellow_green", "51", "99"),
    ("", "blue", "99", "5"),
])
def test_plate_class_and_colour_codes(plate: str, color: str, plate_class: str,
                                      color_code: str) -> None:
    s = replace(sighting(), plate=plate, plate_raw=plate, color=color)
    obj = motor_vehicle_object(s, GB_CAMERA)
    assert (obj["PlateClass"], obj["PlateColor"]) == (plate_class, color_code)
    assert obj["HasPlate"] == ("1" if plate else "0")


def test_extras_and_per_character_reliability() -> None:
    s = replace(sighting(), plate="京A12345", confidence=1.2)
    extra = VehicleExtras(tollgate_id="34020000001210000007", lane_no=2, is_decked=True,
                          vehicle_color="2", direction="1", speed=63.6,
                          char_confidences=(0.8, 0.9, 0.9, 0.88, 0.9, 0.67, 0.87))
    device = "34020000001190000001"
    image = SubImage("vehicle", "https://x.test/v.jpg", 1920, 1080, shot_time=T0)
    obj = wire(motor_vehicle_object(s, GB_CAMERA, device, [image], extra))
    check_fields(obj, MOTOR_VEHICLE_FIELDS)
    assert obj["PlateCharReliability"] == "京-80,A-90,1-90,2-88,3-90,4-67,5-87"
    assert (obj["PlateReliability"], obj["IsDecked"], obj["Speed"], obj["LaneNo"]) == (
        "100", "1", 64, 2)
    assert obj["DeviceID"] == device and obj["SourceID"].startswith(GB_CAMERA)
    sub = obj["SubImageList"]["SubImageInfoObject"][0]
    assert (sub["Type"], sub["Width"], sub["Height"], sub["ShotTime"]) == (
        "01", 1920, 1080, "20231115061320")


@pytest.mark.parametrize("bad", ["cam-1", "3402000000132000000", "3402000000132000000X"])
def test_ids_need_a_20_digit_camera(bad: str) -> None:
    with pytest.raises(ValueError, match="20-digit"):
        motor_vehicle_object(sighting(), bad)
    with pytest.raises(ValueError, match="device_id"):
        motor_vehicle_object(sighting(), GB_CAMERA, device_id=bad)


def test_list_wrappers() -> None:
    obj = motor_vehicle_object(sighting(), GB_CAMERA)
    assert wire(motor_vehicle_list([obj])) == {
        "MotorVehicleListObject": {"MotorVehicleObject": [wire(obj)]}}


def test_disposition_notification_carries_the_matched_vehicle() -> None:
    alert = make_alert(4)
    s = alert.observation
    assert isinstance(s, Sighting)
    vehicle = motor_vehicle_object(s, GB_CAMERA, images=evidence_images(s, LINKS))
    entry = WatchlistRow("wl-2023-0042", "京AD12345", reason="盗抢车辆 2023 第 42 号")
    note = wire(disposition_notification(alert, vehicle, entry))
    check_fields(note, NOTIFICATION_FIELDS)
    check_fields(note["MotorVehicleObject"], MOTOR_VEHICLE_FIELDS)
    assert (note["DispositionID"], note["Title"]) == ("wl-2023-0042", "盗抢车辆 2023 第 42 号")
    assert note["TriggerTime"] == viid_time(alert.raised_at)
    assert note["CntObjectID"] == vehicle["MotorVehicleID"]
    assert note["NotificationID"] == alert.alert_id.replace("-", "")
    from_alert = wire(disposition_notification(alert, vehicle))  # entry id from the alert
    assert from_alert["DispositionID"] == "wl-2023-0042"
    wrapped = wire(disposition_notification_list([disposition_notification(alert, vehicle)]))
    assert wrapped["DispositionNotificationListObject"]["DispositionNotificationObject"] == [
        from_alert]
    with pytest.raises(ValueError, match="no watchlist entry"):
        disposition_notification(replace(alert, watchlist_entry_id=None), vehicle)
