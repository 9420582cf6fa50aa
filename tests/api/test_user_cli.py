"""``smartgate user add``: a user that can then log in; bad input exits 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from smartgate.cli.users import user_app
from smartgate.operators.accounts import Auth
from smartgate.storage.store import opened


def test_user_add_then_login(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/users.db"
    runner = CliRunner()
    r = runner.invoke(
        user_app,
        ["add", "lan", "--role", "controller", "--password-stdin", "--db", db],
        input="long-enough-pw\n",
    )
    assert r.exit_code == 0, r.output
    assert "created lan (controller)" in r.output
    r = runner.invoke(user_app, ["add", "lan", "--password-stdin", "--db", db], input="x" * 9)
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(
        user_app, ["add", "kim", "--role", "root", "--password-stdin", "--db", db], input="y" * 9
    )
    assert r.exit_code == 1 and "role" in r.output
    r = runner.invoke(user_app, ["add", "kim", "--db", db], input="pw-typed-in\npw-typed-in\n")
    assert r.exit_code == 0, r.output
    assert runner.invoke(user_app, ["list", "--db", db]).output.split() == [
        "kim",
        "viewer",
        "lan",
        "controller",
    ]
    with opened(db) as store:
        who = Auth(store.engine).login("lan", "long-enough-pw")
    assert who is not None and who.role == "controller"
