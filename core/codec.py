"""The one wire codec: JSON via pydantic ``TypeAdapter`` (docs/architecture.md, rule 5).

A message on the wire is ``{"type": <wire name>, "data": {...}}``. Decoding validates the
shape, so a malformed message from another process fails here with a :class:`CodecError`
rather than deep inside a stage.
"""

from __future__ import annotations

from typing import Any

import pydantic

from core.errors import CodecError
from core.messages import WIRE_TYPES, Frame, WireMessage

_NAMES: dict[type[Any], str] = {cls: name for name, cls in WIRE_TYPES.items()}


_ADAPTERS: dict[Any, pydantic.TypeAdapter[Any]] = {}


def _adapter(cls: Any) -> pydantic.TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = pydantic.TypeAdapter(cls)
    return adapter


def wire_name(message: WireMessage) -> str:
    try:
        return _NAMES[type(message)]
    except KeyError:
        raise CodecError(f"{type(message).__name__} is not a wire message") from None


def encode(message: WireMessage) -> bytes:
    """Serialise one message. ``Frame`` (pixels) is refused: pixels never cross processes."""
    if isinstance(message, Frame):
        raise CodecError("Frame carries pixels and never leaves its process")
    name = wire_name(message)
    data = _adapter(type(message)).dump_python(message, mode="json")
    return _adapter(dict[str, Any]).dump_json({"type": name, "data": data})


def decode(raw: bytes | str) -> WireMessage:
    """Parse one message produced by :func:`encode`."""
    try:
        envelope = _adapter(dict[str, Any]).validate_json(raw)
        cls = WIRE_TYPES[envelope["type"]]
        message: WireMessage = _adapter(cls).validate_python(envelope["data"])
    except KeyError as exc:
        raise CodecError(f"unknown or missing message type: {exc}") from None
    except pydantic.ValidationError as exc:
        raise CodecError(f"malformed message: {exc}") from None
    return message
