"""Alembic environment: runs on the connection :func:`smartgate.storage.store.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from smartgate.storage import handoff_store as _handoff_store  # noqa: F401  (declares on Base)
from smartgate.storage import store as _store  # noqa: F401  (declares its tables on Base)
from smartgate.storage import tables as _tables  # noqa: F401
from smartgate.storage.base import Base

config = context.config
target_metadata = Base.metadata


def ours(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    """Autogenerate compares only our tables: others an operator keeps in the same
    database are not ours to drop."""
    return not (kind == "table" and reflected and other is None)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=ours,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, include_object=ours)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
