"""The command line and the processes it runs (the demo's supervisor among them).

``smartgate.cli:main`` is the ``smartgate`` command; ``python -m smartgate.cli`` runs it too.
Nothing is imported here eagerly: the supervisor and the processes import this package
and need none of the command line's dependencies.
"""


def main() -> None:
    from smartgate.cli.commands import main as run

    run()
