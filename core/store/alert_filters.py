"""The WHERE clause of the alert queue (:class:`~core.store.records.AlertQuery` → SQL).

Kept apart from :mod:`core.store.alerts`, which owns writes and their invariants: the queue's
filters grow with what a shift needs (level, state, cameras, rules, categories, holder, text)
and are the same for listing and for grouping repeats, so they are built in one place.

Every filter maps onto a column of ``alerts`` (no JSON is searched): the subject holds the
plate (plate rules), ``zone:kind`` (scene rules) or the camera id (camera health), so a
substring of the subject finds plates and zones; camera *names* and addresses live in the
camera registry, and the caller passes the ids of the cameras whose name matched.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.plates import normalize
from core.store import schema
from core.store.records import AlertQuery

_A = schema.alerts


def _any_of(column: sa.Column[str] | sa.Column[int],
            values: tuple[str, ...] | tuple[int, ...]) -> sa.ColumnElement[bool] | None:
    return column.in_(list(values)) if values else None


def text_condition(text: str, cameras: tuple[str, ...] = ()) -> sa.ColumnElement[bool] | None:
    """Subject or camera id containing ``text`` (case-insensitive, ``%`` and ``_`` literal),
    the subject also in the plate's normalised spelling (``京a·12345`` finds ``京A12345``),
    or one of ``cameras``."""
    needle = text.strip()
    if not needle:
        return None
    options = [_A.c.subject.icontains(needle, autoescape=True),
               _A.c.camera_id.icontains(needle, autoescape=True)]
    plate = normalize(needle)
    if plate and plate != needle:
        options.append(_A.c.subject.icontains(plate, autoescape=True))
    if cameras:
        options.append(_A.c.camera_id.in_(list(cameras)))
    return sa.or_(*options)


def conditions(query: AlertQuery) -> list[sa.ColumnElement[bool]]:
    """Every filter of ``query`` as a condition; all of them must hold."""
    conds: list[sa.ColumnElement[bool] | None] = [
        _A.c.state == query.state.value if query.state is not None else None,
        _any_of(_A.c.state, tuple(s.value for s in query.states)),
        _A.c.level == query.level if query.level is not None else None,
        _any_of(_A.c.level, query.levels),
        _A.c.camera_id == query.camera_id if query.camera_id is not None else None,
        _any_of(_A.c.camera_id, query.camera_ids),
        _any_of(_A.c.rule_id, query.rule_ids),
        _any_of(_A.c.category, query.categories),
        _A.c.claimed_by == query.claimed_by if query.claimed_by is not None else None,
        _A.c.created_at >= query.since if query.since is not None else None,
        _A.c.created_at < query.until if query.until is not None else None,
        text_condition(query.text, query.text_cameras) if query.text else None,
    ]
    return [c for c in conds if c is not None]
