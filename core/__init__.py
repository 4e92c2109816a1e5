"""Vigil core: the dictionary and grammar every stage shares.

Messages, configuration models and loader, the bus, clocks, errors and the retry helper.
This package imports nothing else of ours; every other package may import it.
"""
