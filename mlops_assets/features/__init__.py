"""Features: the Feast repository defined in code, the offline feature table and the online store.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
