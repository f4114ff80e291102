"""Deployment: the Triton model repository, the canary and the production decision.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
