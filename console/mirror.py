"""Response models built from the ``core`` dataclasses they mirror.

A sighting, a watchlist row or a dispatch item is defined once, as a dataclass in ``core``;
the console's JSON for it is that dataclass as a dict (``dataclasses.asdict``, plus what a
view adds). Writing a pydantic copy of each by hand made a third place to keep in step
(the dataclass, the store's columns, the response model), and a field added in ``core``
was missing from the API documentation until someone noticed. :func:`mirror` builds the
model from the dataclass's fields and type hints instead: every field required (a view
always writes all of them), the dataclass's docstring as the schema description, and
``types`` to override a field where the JSON differs (a nested model, or ``Any`` for a
recursive JSON alias pydantic cannot name).

mypy cannot use a model built at run time as a type, so each module declares the name as
an empty :class:`Mirror` subclass under ``TYPE_CHECKING`` (nothing reads
their attributes: views return dicts) and binds the built model otherwise.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model


class Mirror(BaseModel):
    """A shape that mirrors a ``core`` message or store record: fields added there pass
    through (documented here when they are), instead of failing the response."""

    model_config = ConfigDict(extra="allow")


def mirror(source: type[Any], name: str, *, base: type[BaseModel] = Mirror,
           drop: Collection[str] = (), types: Mapping[str, Any] | None = None
           ) -> type[BaseModel]:
    """A pydantic model named ``name`` with the fields of dataclass ``source`` (module
    docstring); ``drop`` leaves fields out, ``types`` replaces a field's type."""
    if not dataclasses.is_dataclass(source):
        raise TypeError(f"{source!r} is not a dataclass")
    overrides = dict(types or {})
    unknown = (set(overrides) | set(drop)) - {f.name for f in dataclasses.fields(source)}
    if unknown:
        raise ValueError(f"{source.__name__} has no field(s) {', '.join(sorted(unknown))}")
    hints = typing.get_type_hints(source)
    fields: dict[str, Any] = {
        f.name: (overrides.get(f.name, hints[f.name]), ...)
        for f in dataclasses.fields(source) if f.name not in drop}
    model: type[BaseModel] = create_model(name, __base__=base, __doc__=source.__doc__,
                                          __module__=base.__module__, **fields)
    return model
