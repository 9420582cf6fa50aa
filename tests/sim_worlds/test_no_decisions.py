"""The simulator models the world and decides nothing: no yard, dispatch or trip
decision lives in ``sim_worlds/`` (issue 21). Checked on the syntax tree of every
module there, so a rule copied back into the simulator fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[2] / "sim_worlds"
# The decision functions of the core: the simulator may only reach them through the
# yard policy it runs (fleet.yard.policy.Yard).
DECIDERS = {"dispatch", "rebalance", "choose_spot", "lift_event", "target", "arrived", "lost"}
DECIDING_MODULES = {"fleet.cargo.trips"}
# What only the yard may change on its own records of the vehicles.
YARD_STATE = {"phase", "load", "target", "lift", "idle_since"}
# Names of the simulator's old rules.
RULE_NAMES = ("dispatch", "take_cargo", "free_spot", "loaded_queued", "bound_for", "choose")


def problems(source: str, name: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module in DECIDING_MODULES:
                out.append(f"{name}:{node.lineno} imports {node.module}")
            if node.module.startswith("fleet."):
                out += [
                    f"{name}:{node.lineno} imports {a.name} from {node.module}"
                    for a in node.names
                    if a.name in DECIDERS
                ]
        elif isinstance(node, ast.Import):
            out += [
                f"{name}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name in DECIDING_MODULES
            ]
        elif isinstance(node, ast.FunctionDef) and any(w in node.name for w in RULE_NAMES):
            out.append(f"{name}:{node.lineno} defines {node.name}()")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and sub.attr in YARD_STATE:
                        out.append(f"{name}:{node.lineno} sets .{sub.attr}")
    return out


def test_sim_worlds_holds_no_yard_dispatch_or_trip_decision() -> None:
    found = [p for f in sorted(SIM.rglob("*.py")) for p in problems(f.read_text(), f.name)]
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "from fleet.cargo.dispatch import dispatch\n",
        "from fleet.yard.policy import choose_spot\n",
        "import fleet.cargo.trips\n",
        "def _free_spot(self, c, side):\n    return None\n",
        "def f(sv):\n    sv.yard.phase = 'driving'\n",
        "def f(sv, goal):\n    sv.target = goal\n",
    ],
)
def test_the_check_finds_a_rule_put_back(snippet: str) -> None:
    assert problems(snippet, "x.py")  # the check itself can fail
