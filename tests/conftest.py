"""Shared fixtures. ROS tests run on a private DDS domain, discovery on loopback only."""

from __future__ import annotations

import os
import random
from collections.abc import Generator
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


@pytest.hookimpl(wrapper=True)  # groups before xdist's hook reads them, checks after
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, None, None]:
    """Groups for pytest-xdist (``make pytest`` runs two workers, ``--dist loadgroup``).

    Tests that share an outside resource run one at a time on one worker: the ROS tests
    share one DDS domain and the ``postgres`` ones one database. The other tests stay
    together by module, so a module's fixtures (a simulated hour, a server) are built
    once. Without xdist the marker means nothing.

    xdist marks a grouped test by a suffix on its node id, which pytest 9.2 ignores
    (pytest-xdist#1386): rather than run DDS tests side by side after a pytest upgrade,
    stop and say so."""
    for item in items:
        if item.get_closest_marker("ros") is not None:
            group = "dds"
        elif item.get_closest_marker("postgres") is not None:
            group = "postgres"
        else:
            group = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
    yield
    if getattr(config.option, "loadgroup", False) and items and "@" not in items[0].nodeid:
        raise pytest.UsageError(
            "pytest-xdist --dist loadgroup does not group tests on this pytest "
            "(pytest-xdist#1386): keep pytest at the version requirements.txt pins"
        )
