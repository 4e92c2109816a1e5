"""Round-trip property tests for the wire codec (docs/architecture.md, rule 5)."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import codec
from core.errors import CodecError
from core.messages import WIRE_TYPES, CameraState, CameraStatus, Frame, Sighting, WireMessage

FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
TEXT = st.text(max_size=12)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:  # noqa: PLR0911 - one return per type kind
    """Values for a message field type; floats are finite because JSON has no NaN."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([strategy_for(a) for a in args])
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy_for(args[0]), max_size=4).map(tuple)
        return st.tuples(*[strategy_for(a) for a in args])
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(tp)}
        return st.builds(tp, **fields)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        float: FLOATS, int: st.integers(-(2**53), 2**53), str: TEXT, bool: st.booleans()}
    return simple[tp]


ANY_MESSAGE = st.one_of([strategy_for(cls) for cls in WIRE_TYPES.values()])


@settings(max_examples=300, deadline=None)
@given(ANY_MESSAGE)
def test_round_trip_is_identity(message: WireMessage) -> None:
    assert codec.decode(codec.encode(message)) == message


def test_frame_never_crosses_a_process() -> None:
    frame = Frame("cam", 1, 0.0, np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(CodecError, match="never leaves"):
        codec.encode(frame)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"type": "nope", "data": {}}', "unknown"),
        (b'{"data": {}}', "unknown or missing"),
        (b'{"type": "sighting", "data": {"plate": 1}}', "malformed"),
        (b"not json", "malformed"),
    ],
)
def test_bad_input_is_a_codec_error(raw: bytes, why: str) -> None:
    with pytest.raises(CodecError, match=why):
        codec.decode(raw)


def test_wire_shape_is_stable() -> None:
    status = CameraStatus("gate-3", state=CameraState.STREAMING, since=1.5)
    assert codec.encode(status).startswith(b'{"type":"camera_status","data":{"camera_id":"gate-3"')
    sighting = Sighting("s1", "cam", "京A12345", "京A·12345", "ordinary", "blue", 0.9, 1.0, 2.0)
    assert b'"plate":"\xe4\xba\xacA12345"' in codec.encode(sighting)
