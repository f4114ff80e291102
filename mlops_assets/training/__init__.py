"""Training: the model, tuned with Optuna, logged to MLflow as ONNX with its environment.

``assets.py`` holds the stage's assets; the other modules are its Dagster-free logic, tested on their own.
"""
