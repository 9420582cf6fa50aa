"""Alembic migrations of the smartgate database, shipped inside the package.

:func:`smartgate.storage.store.migrate` runs them (``upgrade head``) whenever a
:class:`smartgate.storage.store.Store` opens a database. A new revision::

    .venv/bin/python -m smartgate.storage.migrations revision -m "what changes"

then edit the generated file in ``versions/`` (autogenerate is a start, not a
result: check types and server defaults on both SQLite and PostgreSQL).
"""
