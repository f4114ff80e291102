"""The ``mlops`` command and what only it uses: the demo driver, status, drift, approval, reproduction.

``main.py`` parses the command line and dispatches; each command's logic lives in the module named for it.
Nothing here is loaded by the Dagster ``Definitions``.
"""
