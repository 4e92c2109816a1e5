"""Frame → Sighting, SceneEvent: ONNX sessions, detectors, tracker, plates, scene rules.

Imports only :mod:`core` (architecture.md, "Imports point down only").
"""
