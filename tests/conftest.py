"""Shared fixtures. ROS tests run on a private DDS domain, discovery on loopback only."""

from __future__ import annotations

import os
import random
from pathlib import Path

import networkx as nx
import pytest

os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random().randint(10, 89)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

from maps.corridor_map import CorridorMap
from maps.corridors import load_corridors

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def corridors() -> tuple[dict[str, CorridorMap], dict[str, nx.DiGraph]]:
    return load_corridors()


@pytest.fixture(scope="session")
def maps(corridors: tuple[dict[str, CorridorMap], dict[str, nx.DiGraph]]) -> dict[str, CorridorMap]:
    return corridors[0]


@pytest.fixture(scope="session")
def graphs(
    corridors: tuple[dict[str, CorridorMap], dict[str, nx.DiGraph]],
) -> dict[str, nx.DiGraph]:
    return corridors[1]
