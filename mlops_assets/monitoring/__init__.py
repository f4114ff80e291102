"""Monitoring: the reference profile, the daily drift and quality reports, their checks, and the statistics.

``assets.py`` holds the report assets and ``checks.py`` their WARN checks (the drift sensor reads the checks'
outcomes through ``check_history.py``). The statistics (``drift*.py``, ``concept_drift.py``,
``feature_quality.py``) and the retrain policy are plain Python, free of Dagster, and tested on their own.
"""
