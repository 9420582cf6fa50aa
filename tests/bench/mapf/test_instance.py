"""Compact graph and batched BFS distance tables agree with networkx."""

from __future__ import annotations

import networkx as nx

from bench.mapf.instance import CompactGraph, bfs_distances, distance_matrix, distance_tables


def test_compact_graph_keeps_node_order_and_direction() -> None:
    g = nx.DiGraph([("b", "a"), ("a", "c"), ("c", "c")])
    cg = CompactGraph.from_networkx(g)
    assert cg.nodes == ("b", "a", "c") and cg.directed
    assert cg.out_nbrs == ((1,), (2,), ())  # self-loop dropped: waiting is implicit
    assert cg.in_nbrs == ((), (0,), (1,))
    undirected = CompactGraph.from_networkx(nx.path_graph(3))
    assert undirected.out_nbrs == undirected.in_nbrs == ((1,), (0, 2), (1,))


def test_distances_match_networkx_on_directed_and_undirected_graphs() -> None:
    for seed in range(6):
        g = nx.gnm_random_graph(40, 70, seed=seed, directed=seed % 2 == 0)
        cg = CompactGraph.from_networkx(g)
        targets = list(range(0, 40, 3))
        matrix = distance_matrix(cg, targets, chunk=4)  # several chunks
        for row, t in zip(matrix.tolist(), targets, strict=True):
            # Distance *to* t: BFS from t on the reversed graph.
            expected = nx.single_source_shortest_path_length(
                g.reverse() if g.is_directed() else g, cg.nodes[t]
            )
            assert row == [expected.get(v, -1) for v in cg.nodes]
            assert bfs_distances(cg, t) == row


def test_distance_tables_mark_unreachable_as_num_nodes() -> None:
    cg = CompactGraph.from_networkx(nx.DiGraph([(0, 1), (1, 2)]))
    assert distance_tables(cg, (2, 0)) == [[2, 1, 0], [0, 3, 3]]
    assert distance_matrix(cg, []).shape == (0, 3)
