"""Command line and process wiring: the only package that imports every stage."""
