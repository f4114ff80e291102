"""Datasets: the point-in-time training join through Feast, its split and its content hash.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
