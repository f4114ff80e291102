"""Registry: MLflow registered versions, the promotion gate and its approvals.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
