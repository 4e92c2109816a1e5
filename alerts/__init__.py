"""Sightings and scene events become alerts: watchlists, matching, rules, lifecycle, dispatch."""
