"""``python -m smartgate.cli``: the ``smartgate`` command."""

from smartgate.cli.commands import main

main()
