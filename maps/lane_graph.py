"""Build the directed lane graph of a corridor from its validated map.

Nodes sit where something happens to a vehicle: lane and connector ends,
junctions, stop lines, zone entries and exits, and yard spots. Edges are the
lane stretches between consecutive nodes, in travel direction, carrying
length, speed limit, travel time, the lane id and kind, and their metric
geometry; the one edge of each reserved lane that crosses the zero line keeps
the exact crossing point. Traditional lanes are in the graph (the UI and the
simulator need them) but :func:`guide_graph` drops them: guide vehicles never
plan on them.

The attribute dicts stay plain dicts (the API's JSON, the simulator and the tests read
them as such); :class:`NodeAttrs` and :class:`EdgeAttrs` give them a type, and the
accessors below hand them out under it (without copying), so that mypy knows each
value's type and flags a misspelt ``d["key"]`` (it does not flag one in ``d.get``).

Complexity: O(F^2 + Z*F) shapely predicates for F line features and Z zones;
the corridors have a few dozen features, so building takes milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, cast

import networkx as nx
from shapely import LineString, Point
from shapely.ops import substring

from maps.corridor_map import SNAP_M, CorridorMap, LineFeature

NODE_ZONE_KINDS = (
    "yard",
    "checkpoint",
    "scanning",
    "handoff",
    "tunnel",
    "inspection",
    "charging",
    "parking",
)


class NodeAttrs(TypedDict):
    """A node's attributes. Every node has a position and a side; the rest says what
    happens to a vehicle there (a node may be several of these at once)."""

    x: float  #: map-frame east, m
    y: float  #: map-frame north, m
    lon: float  #: WGS84 longitude, degrees
    lat: float  #: WGS84 latitude, degrees
    side: str  #: "VN" or "CN": the side of the zero line it lies on
    #: what is here, sorted: lane_end, junction, stop_line, spot, zone_entry, zone_exit
    tags: list[str]
    stop_line: NotRequired[str]  #: id of the stop line here
    stop_reason: NotRequired[str]  #: why vehicles stop here ("zero_line", "checkpoint")
    spot: NotRequired[str]  #: id of the yard spot here (e.g. "vn-spot-L1")
    spot_kind: NotRequired[str]  #: "loading", "charging", "parking" or "inspection"
    spot_name: NotRequired[str]  #: the spot's short name on its side (e.g. "L1", "C1")
    zone: NotRequired[str]  #: id of the zone whose boundary the lane crosses here
    zone_kind: NotRequired[str]  #: that zone's kind (one of NODE_ZONE_KINDS)


class EdgeAttrs(TypedDict):
    """An edge's attributes: one lane stretch between consecutive nodes, in travel
    direction."""

    lane_id: str  #: id of the lane or connector the stretch is part of
    kind: str  #: "driverless", "traditional" or "connector"
    direction: str | None  #: "export" or "import" (None on connectors)
    guide: bool  #: guide vehicles may drive it (see guide_graph)
    length_m: float  #: length along the lane, m
    speed_mps: float  #: speed limit, m/s
    travel_time_s: float  #: length at the speed limit, s (the routing weight)
    offset_m: float  #: where the stretch starts along its lane, m from the lane's start
    geometry: LineString  #: the stretch in the map frame, m
    zones: list[str]  #: ids of the zones its midpoint lies in, sorted
    zero_crossing: tuple[float, float] | None  #: where it crosses the zero line (map frame, m)


def node_attrs(g: nx.DiGraph, n: str) -> NodeAttrs:
    """Node ``n``'s attribute dict itself (not a copy), typed."""
    return cast(NodeAttrs, g.nodes[n])


def edge_attrs(g: nx.DiGraph, u: str, v: str) -> EdgeAttrs:
    """Edge (u, v)'s attribute dict itself (not a copy), typed."""
    return cast(EdgeAttrs, g.edges[u, v])


def nodes_with(g: nx.DiGraph) -> Iterator[tuple[str, NodeAttrs]]:
    """(node, attributes) for every node, like ``g.nodes(data=True)``, typed."""
    return cast(Iterator[tuple[str, NodeAttrs]], iter(g.nodes(data=True)))


def edges_with(g: nx.DiGraph) -> Iterator[tuple[str, str, EdgeAttrs]]:
    """(u, v, attributes) for every edge, like ``g.edges(data=True)``, typed."""
    return cast(Iterator[tuple[str, str, EdgeAttrs]], iter(g.edges(data=True)))


@dataclass
class _Cut:
    dist: float
    name: str
    attrs: dict[str, Any]


class _Nodes:
    """Merges points closer than SNAP_M into one node with a stable id."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pts: list[tuple[float, float]] = []
        self.attrs: dict[str, dict[str, Any]] = {}

    def get(self, name: str, x: float, y: float, attrs: dict[str, Any]) -> str:
        for nid, (px, py) in zip(self.ids, self.pts, strict=True):
            if (px - x) ** 2 + (py - y) ** 2 <= SNAP_M**2:
                merged = self.attrs[nid]
                for k, v in attrs.items():
                    if k == "tags":
                        merged["tags"] = sorted(set(merged["tags"]) | set(v))
                    else:
                        merged.setdefault(k, v)
                return nid
        nid = name
        n = 2
        while nid in self.attrs:
            nid, n = f"{name}#{n}", n + 1
        self.ids.append(nid)
        self.pts.append((x, y))
        self.attrs[nid] = {"x": x, "y": y, **attrs}
        self.attrs[nid].setdefault("tags", [])
        return nid


def _cuts_for(lf: LineFeature, cmap: CorridorMap) -> list[_Cut]:
    line, length = lf.line, lf.line.length
    cuts = [
        _Cut(0.0, f"{lf.id}:start", {"tags": ["lane_end"]}),
        _Cut(length, f"{lf.id}:end", {"tags": ["lane_end"]}),
    ]
    for oid, other in cmap.lines.items():
        if oid == lf.id or other.guide != lf.guide:
            continue
        for end in (Point(other.line.coords[0]), Point(other.line.coords[-1])):
            if line.distance(end) <= SNAP_M:
                d = line.project(end)
                if SNAP_M < d < length - SNAP_M:
                    cuts.append(_Cut(d, f"{lf.id}:{d:.0f}", {"tags": ["junction"]}))
    for sl in cmap.stop_lines.values():
        hit = sl.line.intersection(line)
        if not hit.is_empty:
            d = line.project(hit.representative_point())
            cuts.append(
                _Cut(
                    d, sl.id, {"tags": ["stop_line"], "stop_line": sl.id, "stop_reason": sl.reason}
                )
            )
    for sp in cmap.spots.values():
        if lf.guide and line.distance(sp.point) <= 3.0:
            d = line.project(sp.point)
            cuts.append(
                _Cut(
                    d,
                    sp.id,
                    {"tags": ["spot"], "spot": sp.id, "spot_kind": sp.kind, "spot_name": sp.name},
                )
            )
    for z in cmap.zones.values():
        if z.kind not in NODE_ZONE_KINDS:
            continue
        hit = z.polygon.exterior.intersection(line)
        pts = [hit] if isinstance(hit, Point) else list(getattr(hit, "geoms", []))
        for p in pts:
            if not isinstance(p, Point):
                continue
            d = line.project(p)
            if not (SNAP_M < d < length - SNAP_M):
                continue
            ahead = line.interpolate(min(length, d + 1.0))
            tag = "zone_entry" if z.polygon.contains(ahead) else "zone_exit"
            cuts.append(
                _Cut(
                    d,
                    f"{z.id}:{tag.split('_')[1]}@{lf.id}",
                    {"tags": [tag], "zone": z.id, "zone_kind": z.kind},
                )
            )
    cuts.sort(key=lambda c: c.dist)
    merged: list[_Cut] = []
    for c in cuts:
        if merged and c.dist - merged[-1].dist <= SNAP_M:
            prev = merged[-1]
            prev.attrs["tags"] = sorted(set(prev.attrs["tags"]) | set(c.attrs["tags"]))
            for k, v in c.attrs.items():
                if k != "tags":
                    prev.attrs.setdefault(k, v)
            # Prefer the most meaningful name (stop line/spot over lane ends).
            if c.attrs["tags"][0] in ("stop_line", "spot"):
                prev.name = c.name
        else:
            merged.append(c)
    return merged


def build_lane_graph(cmap: CorridorMap) -> nx.DiGraph:
    """The corridor's lane graph (all lanes); see the module docstring."""
    g = nx.DiGraph(corridor=cmap.id, frame=cmap.frame)
    nodes = _Nodes()
    zero = cmap.zero_line
    for lf in sorted(cmap.lines.values(), key=lambda f: (not f.guide, f.id)):
        cuts = _cuts_for(lf, cmap)
        ids = []
        for c in cuts:
            p = lf.line.interpolate(c.dist)
            ids.append(nodes.get(c.name, p.x, p.y, dict(c.attrs)))
        for (a, ca), (b, cb) in zip(
            zip(ids, cuts, strict=True), zip(ids[1:], cuts[1:], strict=True), strict=False
        ):
            if a == b:
                continue
            geom = substring(lf.line, ca.dist, cb.dist)
            assert isinstance(geom, LineString)
            length = float(geom.length)
            crossing = geom.intersection(zero) if geom.intersects(zero) else None
            mid = geom.interpolate(0.5, normalized=True)
            zones = sorted(z.id for z in cmap.zones.values() if z.polygon.contains(mid))
            edge = EdgeAttrs(
                lane_id=lf.id,
                kind=lf.kind,
                direction=lf.direction,
                guide=lf.guide,
                length_m=length,
                speed_mps=lf.speed_mps,
                travel_time_s=length / lf.speed_mps,
                offset_m=ca.dist,
                geometry=geom,
                zones=zones,
                zero_crossing=(
                    (
                        float(crossing.representative_point().x),
                        float(crossing.representative_point().y),
                    )
                    if crossing is not None and not crossing.is_empty
                    else None
                ),
            )
            g.add_edge(a, b, **edge)
    for nid, attrs in nodes.attrs.items():
        if nid in g:
            lon, lat = cmap.frame.to_lonlat(attrs["x"], attrs["y"])
            g.nodes[nid].update(attrs, lon=lon, lat=lat, side=cmap.side_of(attrs["x"], attrs["y"]))
    return g


def guide_graph(g: nx.DiGraph) -> nx.DiGraph:
    """The subgraph guide vehicles may use: reserved lanes and yard connectors only."""
    edges = [(u, v) for u, v, d in edges_with(g) if d["guide"]]
    sub: nx.DiGraph = g.edge_subgraph(edges).copy()
    return sub


def heading_out_of(g: nx.DiGraph, node: str) -> float:
    """Yaw (rad, from +x, counter-clockwise) of a vehicle standing at ``node``, facing
    along its first out-edge; 0 for a node with none. The orchestrator and the
    simulator worlds both place vehicles with this rule, so they agree."""
    for _, v in g.out_edges(node):
        geom = edge_attrs(g, node, v)["geometry"]
        (x0, y0), (x1, y1) = geom.coords[0], geom.coords[1]
        return math.atan2(y1 - y0, x1 - x0)
    return 0.0
