"""Bus topics, one place, typed, so producers and consumers cannot drift apart.

A :class:`Topic` is a stream name together with the one message class that travels on
it, so ``bus.publish(topics.SIGHTINGS, x)`` only type-checks for a :class:`Sighting` and
``bus.read(topics.SIGHTINGS, ...)`` returns ``Delivery[Sighting]`` without a cast or an
``isinstance`` at every consumer. The names are a :class:`TopicName` (a ``StrEnum``):
their values are the stream names on the wire, unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeGuard, TypeVar

from core.messages import Alert, AlertTransition, CameraStatus, SceneEvent, Sighting, WireMessage

M = TypeVar("M", bound=WireMessage)


class TopicName(enum.StrEnum):
    """The stream names of the topics below (their values are what the backends store)."""

    CAMERA_STATUS = "camera.status"
    SIGHTINGS = "sightings"
    EVENTS = "events"
    ALERTS = "alerts"
    ALERT_TRANSITIONS = "alerts.transitions"


@dataclass(frozen=True, slots=True)
class Topic(Generic[M]):
    """A topic's ``name`` and the ``message`` class its entries are.

    Invariant in ``M`` on purpose: a ``Topic[Sighting]`` must not pass for a
    ``Topic[WireMessage]``, or anything could be published on it.
    """

    name: str
    message: type[M]

    def __str__(self) -> str:
        return self.name

    def carries(self, message: WireMessage) -> TypeGuard[M]:
        """Whether ``message`` is what this topic carries (the bus checks every read)."""
        return isinstance(message, self.message)


CAMERA_STATUS: Topic[CameraStatus] = Topic(TopicName.CAMERA_STATUS, CameraStatus)
SIGHTINGS: Topic[Sighting] = Topic(TopicName.SIGHTINGS, Sighting)
EVENTS: Topic[SceneEvent] = Topic(TopicName.EVENTS, SceneEvent)
ALERTS: Topic[Alert] = Topic(TopicName.ALERTS, Alert)
ALERT_TRANSITIONS: Topic[AlertTransition] = Topic(TopicName.ALERT_TRANSITIONS, AlertTransition)
