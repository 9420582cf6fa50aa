"""``smartgate user``: manage operator accounts in the orchestrator's database.

Passwords are read from a prompt (twice, hidden) or, for scripts, one line of
standard input (``--password-stdin``), never from the command line where
``ps`` and shell history would show them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

user_app = typer.Typer(help="Operator accounts: add, list.", no_args_is_help=True)

DbOpt = Annotated[
    str, typer.Option("--db", envvar="SMARTGATE_DB_URL", help="SQLAlchemy URL of the store.")
]


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Lower case: a-z 0-9 _ . -")],
    role: Annotated[str, typer.Option(help="viewer, controller or admin.")] = "viewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    db: DbOpt = "sqlite:///var/smartgate.db",
) -> None:
    """Create a user with a role (the database is migrated first if needed)."""
    from smartgate.operators.accounts import Auth, AuthError
    from smartgate.storage.store import opened

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _ensure_dir(db)
    with opened(db) as store:
        try:
            Auth(store.engine).create_user(username, password, role)
        except AuthError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"created {username} ({role})")


@user_app.command("list")
def list_users(db: DbOpt = "sqlite:///var/smartgate.db") -> None:
    """Every account and its role."""
    from smartgate.operators.accounts import Auth
    from smartgate.storage.store import opened

    with opened(db) as store:
        for u in Auth(store.engine).users():
            typer.echo(f"{u['username']}\t{u['role']}")


def _ensure_dir(db: str) -> None:
    from pathlib import Path

    if db.startswith("sqlite:///") and not db.startswith("sqlite:////"):
        Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
