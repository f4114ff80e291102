"""Validation: the pandera contract, validated and quarantined rows, and the blocking checks.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
