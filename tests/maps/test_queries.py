"""The map questions of maps/queries.py that are about yard spots, on the shipped maps."""

from __future__ import annotations

import networkx as nx
import pytest

from maps.corridor_map import CorridorMap
from maps.lane_graph import build_lane_graph
from maps.queries import spot, spots, yard_spots

CORRIDORS = ["huu-nghi", "tan-thanh"]


@pytest.mark.parametrize("cid", CORRIDORS)
def test_yard_spots_are_the_eight_loading_spots_of_each_side(
    cid: str, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    expected = {side: [f"{side.lower()}-spot-L{i}" for i in range(1, 9)] for side in ("VN", "CN")}
    assert yard_spots(graphs[cid]) == expected
    assert yard_spots(build_lane_graph(maps[cid])) == expected  # the full graph has the same


@pytest.mark.parametrize("cid", CORRIDORS)
def test_spots_by_kind_and_side(cid: str, graphs: dict[str, nx.DiGraph]) -> None:
    g = graphs[cid]
    for side in ("VN", "CN"):
        p = side.lower()
        assert spots(g, "loading", side) == yard_spots(g)[side]
        assert spots(g, "parking", side) == [f"{p}-spot-P1"]
        assert spots(g, "charging", side) == [f"{p}-spot-C1"]
        assert spots(g, "inspection", side) == [f"{p}-spot-X1"]
    assert spots(g, "car-wash", "VN") == []
    assert spots(g, "loading", "LA") == []


@pytest.mark.parametrize("cid", CORRIDORS)
def test_spot_by_side_and_name(cid: str, graphs: dict[str, nx.DiGraph]) -> None:
    g = graphs[cid]
    assert spot(g, "CN", "X1") == "cn-spot-X1"
    assert spot(g, "VN", "L3") == "vn-spot-L3"
    assert spot(g, "VN", "C1") == "vn-spot-C1"
    assert spot(g, "CN", "L9") is None  # no such spot
    assert spot(g, "LA", "L1") is None  # no such side


def test_spot_questions_read_attributes_not_ids(graphs: dict[str, nx.DiGraph]) -> None:
    # Opaque ids: the answers follow the nodes, not the "side-spot-name" pattern.
    g = nx.relabel_nodes(graphs["huu-nghi"], {"cn-spot-X1": "bay-7", "vn-spot-L2": "n42"})
    assert spot(g, "CN", "X1") == "bay-7"
    assert spots(g, "inspection", "CN") == ["bay-7"]
    assert "n42" in yard_spots(g)["VN"] and "vn-spot-L2" not in yard_spots(g)["VN"]
    assert len(yard_spots(g)["VN"]) == 8
