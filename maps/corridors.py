"""Loading the corridors an orchestrator serves (maps -> lane graphs)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from maps.corridor_map import CorridorMap, read_map
from maps.lane_graph import build_lane_graph, guide_graph

MAPS_DIR = Path(__file__).resolve().parent
CORRIDORS = ("huu-nghi", "tan-thanh")


def load_corridors(
    ids: tuple[str, ...] = CORRIDORS, maps_dir: Path = MAPS_DIR
) -> tuple[dict[str, CorridorMap], dict[str, nx.DiGraph]]:
    """Read and validate each corridor's map; return maps and guide graphs by id."""
    maps: dict[str, CorridorMap] = {}
    graphs: dict[str, nx.DiGraph] = {}
    for cid in ids:
        cmap = read_map(maps_dir / f"{cid}.geojson")
        maps[cmap.id] = cmap
        graphs[cmap.id] = guide_graph(build_lane_graph(cmap))
    return maps, graphs
