"""MovingAI loaders and the seeded scenario generator."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from bench.mapf.movingai import load_map, load_scen, parse_map, random_scenario
from bench.mapf_grid import data_dir

MAPF_DIR = data_dir()

SMALL = "type octile\nheight 3\nwidth 4\nmap\n..@.\n.T.G\n....\n"


def test_parse_small_map_orientation_and_edges() -> None:
    g = parse_map(SMALL)
    assert (2, 0) not in g and (1, 1) not in g  # '@' at x=2,y=0; 'T' at x=1,y=1
    assert (3, 1) in g  # 'G' is free
    assert g.number_of_nodes() == 10
    assert g.has_edge((0, 0), (1, 0)) and g.has_edge((0, 0), (0, 1))
    assert not g.has_edge((0, 0), (1, 1))  # 4-connected, no diagonals
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in g.edges)
    assert list(g.nodes)[:3] == [(0, 0), (1, 0), (3, 0)]  # row-major order


def test_load_benchmark_map_and_scen() -> None:
    g = load_map(MAPF_DIR / "random-32-32-10.map")
    rows = (MAPF_DIR / "random-32-32-10.map").read_text().splitlines()[4:]
    assert g.number_of_nodes() == sum(row.count(".") for row in rows)
    assert (7, 0) not in g  # first row: 7 dots then '@'
    pairs = load_scen(MAPF_DIR / "random-32-32-10-random-1.scen")
    assert len(pairs) == 461
    assert pairs[0] == ((11, 6), (7, 18))
    assert all(s in g and t in g for s, t in pairs)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("type grid\nheight 1\nwidth 1\nmap\n.\n", 1, "type octile"),
        ("type octile\nheight x\nwidth 1\nmap\n.\n", 2, "integer"),
        ("type octile\nheight 1\nwid 1\nmap\n.\n", 3, "width"),
        ("type octile\nheight 1\nwidth 1\ngrid\n.\n", 4, "'map'"),
        ("type octile\nheight 2\nwidth 2\nmap\n..\n.\n", 6, "1 cells, expected 2"),
        ("type octile\nheight 2\nwidth 2\nmap\n..\n", 6, "expected 2 grid rows"),
        ("type octile\nheight 1\nwidth 2\nmap\n.x\n", 5, "unknown terrain 'x'"),
        ("type octile\nheight 1\nwidth 1\nmap\n.\n..\n", 6, "unexpected content"),
    ],
)
def test_malformed_map(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.map"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        load_map(path)
    assert f"bad.map:{line}:" in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("1\tm.map\t4\t4\t0\t0\t1\t1\t1.4\n", 1, "version"),
        ("version 1\n1\tm.map\t4\t4\t0\t0\t1\t1\n", 2, "9 fields"),
        ("version 1\n1\tm.map\t4\t4\t0\t0\t1\t1\t1\n1\tm.map\t4\t4\ta\t0\t1\t1\t1\n", 3, "integer"),
        ("version 1\n1\tm.map\t4\t4\t0\t4\t1\t1\t1\n", 2, "outside 4x4"),
        ("version 1\n1\tm.map\t4\t4\t0\t0\t1\t1\tfar\n", 2, "optimal length"),
    ],
)
def test_malformed_scen(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.scen"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        load_scen(path)
    assert f"bad.scen:{line}:" in str(err.value)


def test_scen_accepts_spaces_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "ok.scen"
    path.write_text("version 1.0\n0 m.map 4 4 0 1 2 3 2.8\n\n")
    assert load_scen(path) == [((0, 1), (2, 3))]


def test_random_scenario_is_deterministic_and_distinct() -> None:
    g = load_map(MAPF_DIR / "room-32-32-4.map")
    a = random_scenario(g, 100, seed=1)
    assert a == random_scenario(g, 100, seed=1)
    assert a != random_scenario(g, 100, seed=2)
    starts, goals = a
    assert len(set(starts)) == len(set(goals)) == 100
    comp = nx.node_connected_component(g, starts[0])
    assert all(v in comp for v in starts + goals)


def test_random_scenario_uses_the_largest_component() -> None:
    g = nx.Graph([(0, 1), (1, 2), (2, 3), (10, 11)])
    starts, goals = random_scenario(g, 4, seed=3)
    assert set(starts) == set(goals) == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="cannot place 5"):
        random_scenario(g, 5, seed=3)
    d = nx.DiGraph([(0, 1), (1, 0), (1, 2), (5, 6), (6, 7), (7, 5)])
    starts, goals = random_scenario(d, 3, seed=0)
    assert set(starts) == set(goals) == {5, 6, 7}  # strongly connected: goals reachable
