"""Training code for Vigil's own models (issue 10). Not imported by the server at run time:
it needs PyTorch, which the server does not; only its torch-free parts are tested in the
main suite (tests/training)."""
