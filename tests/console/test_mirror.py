"""Response models built from core's dataclasses (console/mirror.py): no hand-kept copy."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from pydantic import BaseModel, ValidationError

from console.mirror import mirror
from console.schemas import DispatchOut
from console.schemas_data import EvidenceOut, SightingOut, WatchlistOut
from core.messages import Evidence, Sighting
from core.store.records import DispatchItem, DispatchState, WatchlistRow


@pytest.mark.parametrize(("model", "source", "dropped"), [
    (SightingOut, Sighting, set()), (EvidenceOut, Evidence, set()),
    (WatchlistOut, WatchlistRow, {"entry"}), (DispatchOut, DispatchItem, set())])
def test_each_model_has_exactly_the_dataclass_fields(model: type[BaseModel], source: type,
                                                     dropped: set[str]) -> None:
    wanted = [f.name for f in dataclasses.fields(source) if f.name not in dropped]
    assert list(model.model_fields) == wanted
    assert set(model.model_json_schema()["required"]) == set(wanted)


def test_a_sighting_dict_round_trips_and_extras_pass_through() -> None:
    sighting = Sighting("s1", "cam", "京A12345", "京A12345", "ordinary_7", "blue", 0.97,
                        1.0, 2.0, Evidence(snapshot="a.jpg", box=(1.0, 2.0, 3.0, 4.0)))
    body = {**dataclasses.asdict(sighting), "camera_name": "gate"}
    out = SightingOut.model_validate(body).model_dump(mode="json")
    assert out["evidence"]["box"] == [1.0, 2.0, 3.0, 4.0]
    assert out["camera_name"] == "gate"  # a field a view adds is kept
    with pytest.raises(ValidationError, match="plate"):
        SightingOut.model_validate({k: v for k, v in body.items() if k != "plate"})


def test_dispatch_state_is_its_enum_on_the_wire() -> None:
    item = DispatchItem(1, "a", "110", "w", "{}", "application/json", DispatchState.DEAD, 3,
                        0.0)
    assert DispatchOut.model_validate(dataclasses.asdict(item)).model_dump(
        mode="json")["state"] == "dead"


def test_mirror_refuses_what_it_cannot_build() -> None:
    @dataclass
    class Two:
        a: int
        b: str

    with pytest.raises(TypeError, match="not a dataclass"):
        mirror(int, "X")
    with pytest.raises(ValueError, match="no field"):
        mirror(Two, "X", drop=("c",))
    assert list(mirror(Two, "X", drop=("b",)).model_fields) == ["a"]
