"""The one error a ``mlops`` subcommand raises when the user, not the code, has something to fix.

A missing model version, an empty data folder or a busy port are not bugs: the person at the shell needs
one line saying what is wrong and what to run next, not a traceback. Code that can tell such a case apart
(usually where a library's "not found" is caught) raises ``UserError``; ``mlops_assets.cli.main`` prints
it as ``mlops <command>: <message>`` and exits 2. Everything else still surfaces with its traceback,
because an unexpected exception is a bug to report.
"""

from __future__ import annotations

EXIT_USAGE = 2
"""Exit code for a ``UserError``: the same code ``argparse`` uses for a command line it cannot run."""


class UserError(Exception):
    """Something the user can fix; the message is one line naming what is wrong and what to do."""
