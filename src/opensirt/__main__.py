"""``python -m opensirt`` runs the command line."""

from opensirt.cli import main

main()
