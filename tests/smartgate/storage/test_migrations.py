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
from smartgate.storage.handoff_store import HandoffStore
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
    "handoff_meta",
    "handoff_outbox",
    "handoff_inbox",
    "handoff_records",
    "handoff_custody",
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
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
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


# What HandoffStore's create_all made before revision 0004 (SQLite's own dump of it).
HANDOFF_BEFORE_0004 = [
    'CREATE TABLE handoff_meta (peer VARCHAR(96) NOT NULL, "key" VARCHAR(32) NOT NULL,'
    ' value VARCHAR(128) NOT NULL, PRIMARY KEY (peer, "key"))',
    "CREATE TABLE handoff_outbox (peer VARCHAR(96) NOT NULL, sequence INTEGER NOT NULL,"
    " message_id VARCHAR(64) NOT NULL, kind VARCHAR(32) NOT NULL, handoff_id VARCHAR(64)"
    " NOT NULL, frame {blob} NOT NULL, created_at FLOAT NOT NULL, PRIMARY KEY (peer, sequence))",
    "CREATE TABLE handoff_inbox (peer VARCHAR(96) NOT NULL, message_id VARCHAR(64) NOT NULL,"
    " sequence INTEGER NOT NULL, received_at FLOAT NOT NULL, PRIMARY KEY (peer, message_id))",
    "CREATE INDEX ix_handoff_inbox_received_at ON handoff_inbox (received_at)",
    "CREATE TABLE handoff_records (peer VARCHAR(96) NOT NULL, handoff_id VARCHAR(64) NOT NULL,"
    " role VARCHAR(16) NOT NULL, kind VARCHAR(16) NOT NULL, corridor_id VARCHAR(64) NOT NULL,"
    " from_side INTEGER NOT NULL, vehicle_id VARCHAR(64) NOT NULL, consignment_id VARCHAR(64)"
    " NOT NULL, offer_message_id VARCHAR(64) NOT NULL, offer_digest VARCHAR(64) NOT NULL,"
    " payload {blob} NOT NULL, state VARCHAR(16) NOT NULL, expires_at FLOAT NOT NULL,"
    " valid_until FLOAT NOT NULL, receipt_id VARCHAR(64) NOT NULL, original_handoff_id"
    " VARCHAR(64) NOT NULL, crossing {blob} NOT NULL, updated_at FLOAT NOT NULL,"
    " PRIMARY KEY (peer, handoff_id))",
    "CREATE INDEX ix_handoff_records_consignment_id ON handoff_records (consignment_id)",
    "CREATE INDEX ix_handoff_records_state ON handoff_records (state)",
    "CREATE TABLE handoff_custody (peer VARCHAR(96) NOT NULL, handoff_id VARCHAR(64) NOT NULL,"
    " receipt_id VARCHAR(64) NOT NULL, from_side INTEGER NOT NULL, consignment_id VARCHAR(64),"
    " vehicle_id VARCHAR(64) NOT NULL, custody_at FLOAT NOT NULL, role VARCHAR(16) NOT NULL,"
    " PRIMARY KEY (peer, handoff_id), UNIQUE (peer, from_side, consignment_id))",
    "INSERT INTO handoff_meta VALUES ('cn://peer', 'own_epoch', 'ep-kept')",
    "INSERT INTO handoff_custody VALUES ('cn://peer', 'h-1', 'r-1', 1, 'C-1', 'hn_01', 5.0,"
    " 'offering')",
]


def test_a_handoff_database_from_before_0004_is_adopted(db_url: str) -> None:
    engine = create_engine(db_url)
    blob = "bytea" if engine.dialect.name == "postgresql" else "BLOB"
    with engine.begin() as conn:
        for sql in HANDOFF_BEFORE_0004:
            conn.execute(text(sql.format(blob=blob)))
    engine.dispose()
    store = HandoffStore(db_url)
    state = store.load("cn://peer")
    assert state.own_epoch == "ep-kept"  # the link's records are kept as they were
    assert [c.receipt_id for c in state.custody.values()] == ["r-1"]
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head()
        assert set(inspect(conn).get_table_names()) == TABLES
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    store.close()
