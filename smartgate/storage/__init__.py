"""Persistence: the store (SQLAlchemy + Alembic), the handoff link's store, the migrations."""
