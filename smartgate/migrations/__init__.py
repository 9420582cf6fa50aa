"""Alembic migrations of the smartgate database, shipped inside the package.

:func:`smartgate.storage.migrate` runs them (``upgrade head``) whenever a
:class:`smartgate.storage.Store` opens a database. A new revision::

    .venv/bin/python -m smartgate.migrations revision -m "what changes"

then edit the generated file in ``versions/`` (autogenerate is a start, not a
result: check types and server defaults on both SQLite and PostgreSQL).
"""
