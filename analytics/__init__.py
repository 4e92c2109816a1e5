"""Frame → Sighting, SceneEvent: ONNX sessions, detectors, tracker, plates, scene rules.

Imports only :mod:`core` (docs/architecture.md, "Imports point down only").
"""
