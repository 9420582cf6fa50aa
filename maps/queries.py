"""Questions asked of a corridor's lane graph, answered in one place.

Free functions over the graph :func:`maps.lane_graph.build_lane_graph` makes (or its
``guide_graph``): where a point snaps to a node, which nodes are junctions, the loading
spots of each side, the stop lines before the zero line, whether there is a way back
without crossing it. The core, the services, the simulator and the benchmarks ask here
instead of reading node attributes or ids themselves. Spots are found by their
attributes (kind, name, side), never by the shape of their ids.
"""

from __future__ import annotations

import networkx as nx

from maps.lane_graph import edge_attrs, edges_with, node_attrs, nodes_with


def nearest_node(g: nx.DiGraph, x: float, y: float, within_m: float) -> str | None:
    """The node nearest to (x, y) in the map frame, if one is within ``within_m``."""
    best, best_d = None, within_m**2
    for n, a in nodes_with(g):
        d = (a["x"] - x) ** 2 + (a["y"] - y) ** 2
        if d <= best_d:
            best, best_d = n, d
    return best


def junctions(g: nx.DiGraph) -> frozenset[str]:
    """Nodes where lanes merge or split (two or more edges in, or out)."""
    return frozenset(n for n in g if g.in_degree(n) >= 2 or g.out_degree(n) >= 2)


def handoff_points(g: nx.DiGraph) -> dict[str, str]:
    """Direction -> the stop-line node before the zero line on that reserved lane."""
    out: dict[str, str] = {}
    for _u, v, d in edges_with(g):
        on_reserved = d["guide"] and d["kind"] == "driverless"
        if on_reserved and node_attrs(g, v).get("stop_reason") == "zero_line":
            out[str(d["direction"])] = v
    return out


def yard_spots(g: nx.DiGraph) -> dict[str, list[str]]:
    """Loading spots per side ('VN', 'CN') of the corridor, sorted."""
    return {side: spots(g, "loading", side) for side in ("VN", "CN")}


def spots(g: nx.DiGraph, kind: str, side: str) -> list[str]:
    """The spots of ``kind`` (loading, charging, parking, inspection) on ``side`` ('VN',
    'CN'), sorted."""
    return sorted(n for n, d in nodes_with(g) if d.get("spot_kind") == kind and d["side"] == side)


def spot(g: nx.DiGraph, side: str, name: str) -> str | None:
    """The spot called ``name`` (e.g. 'L1', 'X1') on ``side`` ('VN', 'CN'), if there is one."""
    for n, d in nodes_with(g):
        if d.get("spot_name") == name and d["side"] == side:
            return n
    return None


def way_back(g: nx.DiGraph, start: str, goal: str) -> bool:
    """Whether `goal` is reachable from `start` without crossing the zero line (a refused
    vehicle may only take such a way; today's maps have none from the export stop line)."""
    if start not in g or goal not in g:
        return False
    view = nx.subgraph_view(
        g, filter_edge=lambda u, w: edge_attrs(g, u, w)["zero_crossing"] is None
    )
    return bool(nx.has_path(view, start, goal))
