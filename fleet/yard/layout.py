"""A corridor's yards as yard operations see them: loading spots, staging points, sides.

Each side of the zero line has a yard with loading spots (one crane each) and a
staging point: the place on the lane, a few hundred metres of road before the bays,
where a vehicle bound for that yard waits until a bay has room. The staging point
must be clear of the lane ends and of the yard's in- and out-connectors (a queue there
gets clipped by vehicles turning out of the yard), and near the bays: every bay place
is promised for the whole drive from the staging point, so one far away caps the yard
(CN customs by the line, 3.1 km from the Huu Nghi bays, gave ~80 crossings an hour).

Read from the lane graph (spots by their attributes, sides by the lanes' directions);
only the staging points are named, as the yard's operators choose them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx

from maps.lane_graph import edge_attrs, node_attrs
from maps.queries import spots as spots_of
from maps.queries import yard_spots

SIDES = ("VN", "CN")
OTHER_SIDE = {"VN": "CN", "CN": "VN"}
# The shipped corridors' staging points (both maps name their nodes alike). VN: where
# the import lane leaves VN customs, 361-536 m of road from the VN bays; CN: where the
# export lane enters the CN yard, 241-416 m from the CN bays.
DEFAULT_STAGING: Mapping[str, str] = {"CN": "cn-yard:entry@E-AUTO", "VN": "vn-customs:exit@I-AUTO"}


class LayoutError(ValueError):
    """A graph or a staging choice yard operations cannot work with; says why."""


@dataclass(frozen=True)
class YardLayout:
    """One corridor's yards: ``spots[side]`` loading spots (sorted), ``staging[side]``
    the node where vehicles bound for that side queue for a bay, ``leads_to`` the side
    each node belongs to, or, on a guide lane, the side the lane leads to; ``chargers[side]``
    the charging spots (one vehicle each); ``on_lane`` the nodes on the guide lanes (the
    rest are in a yard: bays, parking, chargers and the connectors between them);
    ``beyond_staging`` the lane nodes past a staging point, on the lane's last stretch
    into its yard (from there the staging point lies behind, across the border and
    back)."""

    corridor: str
    spots: Mapping[str, tuple[str, ...]]
    staging: Mapping[str, str]
    leads_to: Mapping[str, str]
    chargers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    on_lane: frozenset[str] = frozenset()
    beyond_staging: frozenset[str] = frozenset()

    @classmethod
    def from_graph(
        cls, corridor: str, g: nx.DiGraph, staging: Mapping[str, str] | None = None
    ) -> YardLayout:
        """The layout of ``corridor``'s guide graph ``g``; ``staging`` (side -> node)
        defaults to :data:`DEFAULT_STAGING`."""
        stage = dict(staging if staging is not None else DEFAULT_STAGING)
        if sorted(stage) != sorted(SIDES):
            raise LayoutError(f"{corridor}: staging points must name both sides {SIDES}")
        for side, node in stage.items():
            if node not in g:
                raise LayoutError(f"{corridor}: staging point {node!r} ({side}) is not in the map")
        spots = {side: tuple(s) for side, s in yard_spots(g).items()}
        for side in SIDES:
            if not spots.get(side):
                raise LayoutError(f"{corridor}: the {side} yard has no loading spot")
        leads: dict[str, str] = {}
        for n in g:
            leads[n] = _leads_to(g, n)
        for side, node in stage.items():
            leads[node] = side
        chargers = {side: tuple(spots_of(g, "charging", side)) for side in SIDES}
        lane = frozenset(
            n for u, v in g.edges if edge_attrs(g, u, v)["kind"] == "driverless" for n in (u, v)
        )
        beyond: set[str] = set()
        for node in stage.values():
            todo = [node]
            while todo:
                u = todo.pop()
                for v in g.successors(u):
                    d = edge_attrs(g, u, v)
                    if d["kind"] == "driverless" and d["zero_crossing"] is None and v not in beyond:
                        beyond.add(v)
                        todo.append(v)
        return cls(corridor, spots, stage, leads, chargers, lane, frozenset(beyond))

    def side_of(self, node: str) -> str:
        """The yard ``node`` is in, or the one the guide lane it is on leads to."""
        try:
            return self.leads_to[node]
        except KeyError:
            raise LayoutError(f"{self.corridor}: no node {node!r} in the map") from None

    def is_spot(self, node: str, side: str | None = None) -> bool:
        """Is ``node`` a loading spot (of ``side``, if given)?"""
        sides = SIDES if side is None else (side,)
        return any(node in self.spots[s] for s in sides)


def _leads_to(g: nx.DiGraph, n: str) -> str:
    """Export lanes lead to CN and import lanes to VN; any other node is on its side."""
    for u, v in (*g.in_edges(n), *g.out_edges(n)):
        d = edge_attrs(g, u, v)
        if d["kind"] == "driverless" and d["direction"] == "export":
            return "CN"
        if d["kind"] == "driverless" and d["direction"] == "import":
            return "VN"
    return node_attrs(g, n)["side"]
