"""Alembic migrations: from empty to head on SQLite and PostgreSQL, down and up, and
adoption of a database made before migrations existed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from smartgate.storage.base import Base
from smartgate.storage.store import Store, alembic_config
from tests.smartgate.storage.dbkit import DATABASES
from tests.smartgate.storage.recordkit import fresh_database

TABLES = {
    "alembic_version",
    "events",
    "vehicles",
    "consignments",
    "consignment_events",
    "users",
    "sessions",
    "audit_log",
    "alarms",
}


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def head() -> str:
    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def test_upgrade_from_empty_matches_the_models(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        assert MigrationContext.configure(conn).get_current_revision() == head()
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    store.close()
    Store(db_url).close()  # a second start finds it at head and changes nothing


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
    store.close()


def test_a_database_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    with engine.begin() as conn:  # what Store.create_all made before revision 0001
        conn.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, t FLOAT NOT NULL, kind VARCHAR(64)"
                " NOT NULL, vehicle_id VARCHAR(64), payload JSON NOT NULL)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE vehicles (id VARCHAR(64) PRIMARY KEY, corridor VARCHAR(64) NOT "
                "NULL, status VARCHAR(32) NOT NULL, x_m FLOAT NOT NULL, y_m FLOAT NOT NULL, "
                "mission_id VARCHAR(64), updated_at FLOAT)"
            )
        )
        conn.execute(
            text("""INSERT INTO events (t, kind, payload) VALUES (1.0, 'x', '{"event": "x"}')""")
        )
    engine.dispose()
    store = Store(url)
    assert store.events() == [{"event": "x"}]  # kept
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()
        assert "consignments" in inspect(conn).get_table_names()
    store.close()
