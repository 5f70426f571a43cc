"""Sub-commands of the ``opensirt`` command line, one module per group.

Each module has ``register(app)``, which adds its commands to the typer application of
:mod:`opensirt.cli`.
"""
