"""Bus topic names, one place, so producers and consumers cannot drift apart."""

CAMERA_STATUS = "camera.status"
SIGHTINGS = "sightings"
EVENTS = "events"
ALERTS = "alerts"
ALERT_TRANSITIONS = "alerts.transitions"
