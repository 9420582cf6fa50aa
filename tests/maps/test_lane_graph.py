"""The lane graph built from the shipped maps."""

from __future__ import annotations

import itertools
from typing import NotRequired, get_origin, get_type_hints

import networkx as nx
import pytest
from shapely import Point

from maps.corridor_map import CorridorMap
from maps.lane_graph import (
    EdgeAttrs,
    NodeAttrs,
    build_lane_graph,
    edge_attrs,
    edges_with,
    node_attrs,
    nodes_with,
)
from maps.queries import handoff_points


@pytest.mark.parametrize("cid", ["huu-nghi", "tan-thanh"])
def test_guide_graph_has_no_traditional_lane_and_is_strongly_connected(
    cid: str, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    full = build_lane_graph(maps[cid])
    guide = graphs[cid]
    assert {k for *_, k in full.edges(data="kind")} == {"traditional", "driverless", "connector"}
    assert {k for *_, k in guide.edges(data="kind")} == {"driverless", "connector"}
    assert nx.is_strongly_connected(guide)
    for _, _, d in guide.edges(data=True):
        assert d["length_m"] > 0 and d["speed_mps"] > 0
        assert d["travel_time_s"] == pytest.approx(d["length_m"] / d["speed_mps"])
        assert d["geometry"].length == pytest.approx(d["length_m"])


@pytest.mark.parametrize("cid", ["huu-nghi", "tan-thanh"])
def test_exactly_one_edge_per_reserved_lane_crosses_the_zero_line_at_its_true_point(
    cid: str, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    cmap, g = maps[cid], graphs[cid]
    crossing = [(u, v, d) for u, v, d in g.edges(data=True) if d["zero_crossing"] is not None]
    assert sorted(d["lane_id"] for *_, d in crossing) == ["E-AUTO", "I-AUTO"]
    for u, v, d in crossing:
        pt = Point(d["zero_crossing"])
        assert cmap.zero_line.distance(pt) < 1e-6
        assert d["geometry"].distance(pt) < 1e-6
        # The edge runs from one country into the other.
        assert g.nodes[u]["side"] != g.nodes[v]["side"]


def test_handoff_points_are_stop_lines_before_the_zero_line(
    graphs: dict[str, nx.DiGraph],
) -> None:
    for g in graphs.values():
        hp = handoff_points(g)
        assert hp == {"export": "SL-E-zero", "import": "SL-I-zero"}
        assert g.nodes["SL-E-zero"]["side"] == "VN"  # export stops before crossing
        assert g.nodes["SL-I-zero"]["side"] == "CN"  # import waits on the Chinese side
        # Straight on crosses km 0; the other way is the turnaround back to the VN yard.
        ways = {g.edges["SL-E-zero", w]["lane_id"]: w for w in g.successors("SL-E-zero")}
        assert set(ways) == {"E-AUTO", "vn-turnaround"}
        assert g.edges["SL-E-zero", ways["E-AUTO"]]["zero_crossing"] is not None
        assert g.edges["SL-E-zero", ways["vn-turnaround"]].get("zero_crossing") is None


def test_nodes_at_stop_lines_zone_entries_spots_and_junctions(
    graphs: dict[str, nx.DiGraph],
) -> None:
    g = graphs["huu-nghi"]
    tags = set(itertools.chain.from_iterable(t for _, t in g.nodes(data="tags")))
    assert {"stop_line", "zone_entry", "zone_exit", "spot", "junction", "lane_end"} <= tags
    assert g.nodes["vn-spot-L1"]["spot_kind"] == "loading"
    assert g.nodes["vn-customs:entry@E-AUTO"]["zone_kind"] == "checkpoint"
    for _, a in g.nodes(data=True):
        assert 106.3 < a["lon"] < 107.2 and 21.6 < a["lat"] < 22.4


def _keys(td: type) -> tuple[frozenset[str], frozenset[str]]:
    """(required, optional) keys of a TypedDict (read from its hints: with postponed
    annotations, ``__optional_keys__`` does not see NotRequired on Python 3.11)."""
    hints = get_type_hints(td, include_extras=True)
    optional = frozenset(k for k, t in hints.items() if get_origin(t) is NotRequired)
    return frozenset(hints) - optional, optional


@pytest.mark.parametrize("cid", ["huu-nghi", "tan-thanh"])
def test_the_attribute_types_say_what_the_builder_stores(
    cid: str, maps: dict[str, CorridorMap]
) -> None:
    g = build_lane_graph(maps[cid])
    required, optional = _keys(NodeAttrs)
    assert required == {"x", "y", "lon", "lat", "side", "tags"}
    for n, d in g.nodes(data=True):
        assert required <= d.keys() <= required | optional, n
    assert set().union(*(d.keys() for _, d in g.nodes(data=True))) == required | optional
    required, optional = _keys(EdgeAttrs)
    assert not optional
    for u, v, d in g.edges(data=True):
        assert d.keys() == required, (u, v)


def test_the_typed_accessors_hand_out_the_graphs_own_dicts(
    graphs: dict[str, nx.DiGraph],
) -> None:
    g = graphs["huu-nghi"]
    assert all(node_attrs(g, n) is d for n, d in g.nodes(data=True))
    assert all(edge_attrs(g, u, v) is d for u, v, d in g.edges(data=True))
    assert [(n, id(d)) for n, d in nodes_with(g)] == [(n, id(d)) for n, d in g.nodes(data=True)]
    assert [(u, v, id(d)) for u, v, d in edges_with(g)] == [
        (u, v, id(d)) for u, v, d in g.edges(data=True)
    ]
