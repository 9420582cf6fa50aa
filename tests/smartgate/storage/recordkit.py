"""Declarations, databases and a stand-in fleet shared by the persistence and API tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fleet.cargo.iso6346 import check_digit
from fleet.traffic.planner import Priority
from smartgate.services.desk import VehicleSnapshot

PG_ENV = "SMARTGATE_TEST_PG_URL"


def container(i: int) -> str:
    owner_serial = f"CSQU{i:06d}"
    return f"{owner_serial}{check_digit(owner_serial)}"


def declaration(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid export declaration of dragon fruit (no lab certificates needed), number ``i``."""
    d: dict[str, Any] = {
        "id": f"VN-2026-{i:06d}",
        "container_number": container(i),
        "seal_number": f"ML-{i:07d}",
        "goods": {"category": "fruit", "fruit_kind": "dragon_fruit"},
        "direction": "export",
        "corridor": "huu-nghi",
        "customs_declaration": f"{305000000000 + i}",
        "gross_weight_kg": 24500,
        "quarantine_certificate": f"KD-2026-{i:04d}",
    }
    d.update(overrides)
    return d


def pg_base_url() -> str:
    """The PostgreSQL server's URL; in CI its absence is a failure, not a reason to skip."""
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set: .ci/run must start PostgreSQL and export it")
    pytest.skip(f"{PG_ENV} not set (deselect with -m 'not postgres', or see README)")


@contextmanager
def fresh_database(kind: str, tmp_path: Any) -> Iterator[str]:
    """An empty database of ``kind`` ("sqlite" or "postgres"); dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/smartgate.db"
        return
    base = make_url(pg_base_url())
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class YardFleet:
    """A stand-in :class:`FleetPort`: vehicles that are wherever the test puts them.

    Commands are recorded; the test moves a vehicle with :meth:`arrive`, as its
    report would. Real enough for the desk, which only reads reports and sends goals.
    """

    def __init__(self, vehicles: Mapping[str, tuple[str, str]]) -> None:
        self.snaps = {
            vid: VehicleSnapshot(vid, corridor, True, False, node)
            for vid, (corridor, node) in vehicles.items()
        }
        self.commands: list[tuple[str, str]] = []
        self.priorities: dict[str, Priority | None] = {}  # as last sent

    def snapshots(self) -> dict[str, VehicleSnapshot]:
        return dict(self.snaps)

    def send_to(
        self, vehicle_id: str, goal: str, now: float, priority: Priority | None = None
    ) -> None:
        self.commands.append((vehicle_id, goal))
        self.priorities[vehicle_id] = priority
        s = self.snaps[vehicle_id]
        self.snaps[vehicle_id] = VehicleSnapshot(s.id, s.corridor, s.online, True, None)

    def arrive(self, vehicle_id: str, node: str) -> None:
        s = self.snaps[vehicle_id]
        self.snaps[vehicle_id] = VehicleSnapshot(s.id, s.corridor, s.online, False, node)

    def set_online(self, vehicle_id: str, online: bool) -> None:
        s = self.snaps[vehicle_id]
        self.snaps[vehicle_id] = VehicleSnapshot(s.id, s.corridor, online, s.busy, s.node)

    def goal_of(self, vehicle_id: str) -> str | None:
        goals = [g for v, g in self.commands if v == vehicle_id]
        return goals[-1] if goals else None
