"""MovingAI MAPF benchmark files (Stern et al., SoCS 2019) and random scenarios.

``.map`` grids become 4-connected ``nx.Graph`` s of free cells with nodes
``(x, y)`` (x = column, y = row) and unit edges; ``.scen`` files become
``(start, goal)`` cell pairs. Malformed input raises ``ValueError`` naming the
file and line. Parsing is O(W * H) and O(lines).
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import networkx as nx

Cell = tuple[int, int]
FREE = frozenset(".G")
BLOCKED = frozenset("@OTSW")


def _fail(path: Path, line: int, msg: str) -> ValueError:
    return ValueError(f"{path}:{line}: {msg}")


def _header_int(path: Path, lines: list[str], idx: int, key: str) -> int:
    if idx >= len(lines):
        raise _fail(path, idx + 1, f"missing '{key} <int>' header line")
    parts = lines[idx].split()
    if len(parts) != 2 or parts[0] != key:
        raise _fail(path, idx + 1, f"expected '{key} <int>', got {lines[idx]!r}")
    try:
        value = int(parts[1])
    except ValueError:
        raise _fail(path, idx + 1, f"{key} must be an integer, got {parts[1]!r}") from None
    if value <= 0:
        raise _fail(path, idx + 1, f"{key} must be positive, got {value}")
    return value


def parse_map(text: str, path: str | Path = "<string>") -> Any:
    """Parse ``.map`` text into a 4-connected ``nx.Graph`` of free cells.

    Nodes are added row by row (y, then x), which fixes a stable node order.
    """
    p = Path(path)
    lines = text.splitlines()
    if not lines or lines[0].split() != ["type", "octile"]:
        raise _fail(p, 1, "expected 'type octile'")
    height = _header_int(p, lines, 1, "height")
    width = _header_int(p, lines, 2, "width")
    if len(lines) < 4 or lines[3].strip() != "map":
        raise _fail(p, 4, "expected 'map'")
    rows = lines[4 : 4 + height]
    if len(rows) < height:
        raise _fail(p, 4 + len(rows) + 1, f"expected {height} grid rows, found {len(rows)}")
    for extra in range(4 + height, len(lines)):
        if lines[extra].strip():
            raise _fail(p, extra + 1, f"unexpected content after {height} grid rows")
    graph = nx.Graph()
    for y, row in enumerate(rows):
        row = row.rstrip("\r")
        if len(row) != width:
            raise _fail(p, y + 5, f"row has {len(row)} cells, expected {width}")
        for x, ch in enumerate(row):
            if ch in FREE:
                graph.add_node((x, y))
            elif ch not in BLOCKED:
                raise _fail(p, y + 5, f"unknown terrain {ch!r} at x={x}")
    for x, y in list(graph.nodes):
        for nb in ((x + 1, y), (x, y + 1)):
            if nb in graph:
                graph.add_edge((x, y), nb)
    graph.graph["width"] = width
    graph.graph["height"] = height
    return graph


def load_map(path: str | Path) -> Any:
    """Read a ``.map`` file; see :func:`parse_map`."""
    p = Path(path)
    return parse_map(p.read_text(), p)


def parse_scen(text: str, path: str | Path = "<string>") -> list[tuple[Cell, Cell]]:
    """Parse ``.scen`` text into ``(start, goal)`` cells, in file order.

    Lines: ``bucket map width height start_x start_y goal_x goal_y optimal``
    (tab separated; any whitespace accepted since map names hold no spaces).
    """
    p = Path(path)
    lines = text.splitlines()
    if not lines or lines[0].split()[:1] != ["version"]:
        raise _fail(p, 1, "expected 'version <n>' header")
    pairs: list[tuple[Cell, Cell]] = []
    for idx in range(1, len(lines)):
        line = lines[idx]
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 9:
            raise _fail(p, idx + 1, f"expected 9 fields, got {len(fields)}")
        try:
            width, height, sx, sy, gx, gy = (int(f) for f in fields[2:8])
        except ValueError:
            raise _fail(p, idx + 1, "width, height and coordinates must be integers") from None
        try:
            float(fields[8])
        except ValueError:
            raise _fail(p, idx + 1, f"optimal length must be a number: {fields[8]!r}") from None
        for x, y in ((sx, sy), (gx, gy)):
            if not (0 <= x < width and 0 <= y < height):
                raise _fail(p, idx + 1, f"cell ({x}, {y}) outside {width}x{height} map")
        pairs.append(((sx, sy), (gx, gy)))
    return pairs


def load_scen(path: str | Path) -> list[tuple[Cell, Cell]]:
    """Read a ``.scen`` file; see :func:`parse_scen`. The first N pairs are the N-agent case."""
    p = Path(path)
    return parse_scen(p.read_text(), p)


def random_scenario(graph: Any, n: int, seed: int) -> tuple[list[Hashable], list[Hashable]]:
    """``n`` distinct random starts and ``n`` distinct random goals, all in one component.

    The component is the largest (strongly, for directed graphs) connected
    component, so every goal is reachable from every start; ties go to the
    component met first in node order. Nodes are drawn with
    ``random.Random(seed)`` from the component listed in the graph's node
    order, so the result depends only on the graph and ``seed``. Starts and
    goals are drawn independently (a goal may be another agent's start).
    O(V + E). Raises ``ValueError`` if the component has fewer than ``n`` nodes.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    comps = (
        nx.strongly_connected_components(graph)
        if graph.is_directed()
        else nx.connected_components(graph)
    )
    position = {v: i for i, v in enumerate(graph.nodes)}
    best: set[Hashable] = set()
    best_key = (0, 0)
    for comp in comps:
        key = (len(comp), -min(position[v] for v in comp))
        if key > best_key:
            best, best_key = comp, key
    nodes = [v for v in graph.nodes if v in best]
    if n > len(nodes):
        raise ValueError(f"largest component has {len(nodes)} nodes, cannot place {n} agents")
    rng = random.Random(seed)
    return rng.sample(nodes, n), rng.sample(nodes, n)
