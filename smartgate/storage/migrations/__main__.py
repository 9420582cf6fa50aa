"""``python -m smartgate.storage.migrations revision|upgrade|downgrade|current ... [--url URL]``."""

from __future__ import annotations

import argparse
import os

from alembic import command
from sqlalchemy import create_engine

from smartgate.storage.store import alembic_config


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m smartgate.storage.migrations")
    p.add_argument("action", choices=["revision", "upgrade", "downgrade", "current"])
    p.add_argument("target", nargs="?", default="head")
    p.add_argument("-m", "--message", default="")
    p.add_argument(
        "--url", default=os.environ.get("SMARTGATE_DB_URL", "sqlite:///var/smartgate.db")
    )
    a = p.parse_args()
    engine = create_engine(a.url)
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        if a.action == "revision":
            command.revision(cfg, message=a.message, autogenerate=True)
        elif a.action == "upgrade":
            command.upgrade(cfg, a.target)
        elif a.action == "downgrade":
            command.downgrade(cfg, a.target)
        else:
            command.current(cfg, verbose=True)
    engine.dispose()


if __name__ == "__main__":
    main()
