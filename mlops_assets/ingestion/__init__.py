"""Ingestion: raw day partitions from the landing folder, the seeded generator or a user's folder.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
