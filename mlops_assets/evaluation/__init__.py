"""Evaluation: quality on every split, by segment, fairness and latency; challenger against champion.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
