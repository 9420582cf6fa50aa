"""A real app over a real SQLite store, with an injected wall clock for sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from fleet.core import Command
from maps.corridor_map import CorridorMap
from smartgate.services.desk import attach_desk
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store
from tests.api.apikit import FAST_HASHER

T0 = 1_795_000_000.0  # 2026-11-18, some time in the afternoon at the gate


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path}/api.db")
    yield s
    s.close()


@pytest.fixture
def sent() -> list[Command]:
    return []


@pytest.fixture
def orch(
    maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph], store: Store, sent: list[Command]
) -> Orchestrator:
    o = attach_desk(Orchestrator(maps, graphs), store)
    o.add_vehicle("hn_01", "huu-nghi", "vn-spot-L1", 0.0)
    o.add_vehicle("tt_01", "tan-thanh", "vn-spot-L1", 0.0)
    o.command_sink = sent.append
    return o


@pytest.fixture
def app(orch: Orchestrator, store: Store, clock: Clock) -> FastAPI:
    return create_app(orch, store=store, clock=clock, hasher=FAST_HASHER, refresh_s=0.05)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
