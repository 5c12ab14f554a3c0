"""The ``natgrad`` command line: a click group, one subcommand per task.

``natgrad fit``, ``predict`` and ``evaluate`` (the model commands, `natgrad.cli._model`) and
``natgrad compare`` (the optimizer comparison). `main` is the console script's entry point;
``python -m natgrad.cli`` runs it too.
"""

from natgrad.cli._main import main

__all__ = ["main"]
