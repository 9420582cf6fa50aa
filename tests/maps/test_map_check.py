"""`smartgate map check`: both maps pass; each rule rejects a broken copy precisely."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maps.author import SPECS, build
from maps.corridor_map import MapError, parse_map, read_map
from tests.conftest import REPO

MAPS = [REPO / "maps" / "huu-nghi.geojson", REPO / "maps" / "tan-thanh.geojson"]


def _doc() -> dict[str, Any]:
    return json.loads(MAPS[0].read_text("utf-8"))


def _feature(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in doc["features"] if f["id"] == fid)


def _problems(doc: dict[str, Any] | str) -> list[str]:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(MapError) as e:
        parse_map(text, "broken.geojson")
    return [str(p) for p in e.value.problems]


@pytest.mark.parametrize("path", MAPS, ids=lambda p: p.stem)
def test_shipped_maps_are_valid(path: Path) -> None:
    cmap = read_map(path)
    lanes = [lf for lf in cmap.lines.values() if lf.type == "lane"]
    assert len(lanes) == 8
    assert sum(1 for lf in lanes if lf.direction == "export") == 4
    reserved = {(lf.direction, lf.kind) for lf in lanes if lf.kind == "driverless"}
    assert reserved == {("export", "driverless"), ("import", "driverless")}
    assert len(cmap.marker_points) == 2
    assert {z.kind for z in cmap.zones.values()} >= {"yard", "checkpoint", "handoff", "charging"}


def test_route_lengths_follow_public_facts() -> None:
    hn, tt = read_map(MAPS[0]), read_map(MAPS[1])
    # Domain brief: driverless route about 3.6 km at Huu Nghi, 2.4 km at Tan Thanh.
    assert hn.lines["E-AUTO"].line.length == pytest.approx(3620, rel=0.02)
    assert tt.lines["E-AUTO"].line.length == pytest.approx(2420, rel=0.02)
    # The existing 1119-1120 road is about 902 m.
    assert hn.lines["E1"].line.length == pytest.approx(902, rel=0.01)


@pytest.mark.parametrize("per_direction", [2, 6])
def test_lane_counts_are_data(per_direction: int) -> None:
    """A 6-lane or a 14-lane road loads the same way (2 or 6 traditional lanes each way)."""
    spec = dataclasses.replace(SPECS[0], traditional_per_direction=per_direction)
    cmap = parse_map(json.dumps(build(spec)))
    lanes = [lf for lf in cmap.lines.values() if lf.type == "lane"]
    assert len(lanes) == 2 * per_direction + 2


BREAKERS: list[tuple[str, Callable[[dict[str, Any]], None], str, str | None]] = [
    (
        "unknown lane kind",
        lambda d: _feature(d, "E2")["properties"].update(kind="robot"),
        "unknown lane kind 'robot'",
        "E2",
    ),
    (
        "unknown direction",
        lambda d: _feature(d, "E2")["properties"].update(direction="north"),
        "unknown lane direction 'north'",
        "E2",
    ),
    (
        "negative speed",
        lambda d: _feature(d, "E2")["properties"].update(speed_limit_kmh=-5),
        "speed_limit_kmh must be a positive number",
        "E2",
    ),
    (
        "lane that does not connect",
        lambda d: _feature(d, "vn-yard-out")["geometry"]["coordinates"].__setitem__(
            -1, [c + 0.0003 for c in _feature(d, "vn-yard-out")["geometry"]["coordinates"][-1]]
        ),
        "connector does not connect: its end point",
        "vn-yard-out",
    ),
    (
        "reserved lane never crosses the zero line",
        lambda d: _feature(d, "zero-line")["geometry"]["coordinates"].__setitem__(
            slice(None), [[106.70, 21.95], [106.701, 21.95]]
        ),
        "reserved driverless lane never crosses the zero line",
        "E-AUTO",
    ),
    (
        "self-intersecting polygon",
        lambda d: _feature(d, "vn-customs")["geometry"].update(
            coordinates=[
                [
                    [106.7100, 21.9680],
                    [106.7110, 21.9690],
                    [106.7110, 21.9680],
                    [106.7100, 21.9690],
                    [106.7100, 21.9680],
                ]
            ]
        ),
        "invalid polygon: Self-intersection",
        "vn-customs",
    ),
    (
        "coordinates outside the region",
        lambda d: _feature(d, "marker-1119")["geometry"].update(coordinates=[21.97, 106.71]),
        "lies outside the map region",
        "marker-1119",
    ),
    (
        "unknown feature type",
        lambda d: _feature(d, "E2")["properties"].update(type="road"),
        "unknown feature type 'road'",
        "E2",
    ),
    (
        "wrong geometry",
        lambda d: _feature(d, "vn-yard").update(
            geometry={"type": "Point", "coordinates": [106.71, 21.97]}
        ),
        "a zone must be a Polygon, not Point",
        "vn-yard",
    ),
    (
        "duplicate id",
        lambda d: d["features"].append(copy.deepcopy(_feature(d, "E2"))),
        "duplicate feature id",
        "E2",
    ),
    (
        "two zero lines",
        lambda d: d["features"].append(dict(copy.deepcopy(_feature(d, "zero-line")), id="zero-2")),
        "exactly one zero_line feature, found 2",
        None,
    ),
    (
        "dead-end bay",
        lambda d: d["features"].remove(_feature(d, "vn-yard-north")),
        "does not connect",
        None,
    ),
    ("missing header", lambda d: d.pop("smartgate"), "missing the 'smartgate' header", None),
    (
        "not GeoJSON geometry",
        lambda d: _feature(d, "E2")["geometry"].update(coordinates=[[1]]),
        "invalid GeoJSON at",
        "E2",
    ),
]


@pytest.mark.parametrize("name,breaker,message,feature", BREAKERS, ids=[b[0] for b in BREAKERS])
def test_rule_rejects_broken_copy(
    name: str, breaker: Callable[[dict[str, Any]], None], message: str, feature: str | None
) -> None:
    doc = _doc()
    breaker(doc)
    problems = _problems(doc)
    hits = [p for p in problems if message in p]
    assert hits, f"expected {message!r} in {problems}"
    assert all(p.startswith("broken.geojson") for p in problems)
    if feature is not None:
        assert any(f"feature '{feature}'" in p for p in hits), hits


def test_invalid_json_reports_line_and_column() -> None:
    text = MAPS[0].read_text("utf-8")
    broken = text.replace('"features": [', '"features": [,', 1)
    assert broken != text
    (problem,) = _problems(broken)
    assert "invalid JSON at line" in problem and "column" in problem


def test_cli_passes_good_maps_and_fails_broken_ones_without_traceback(tmp_path: Path) -> None:
    smartgate = [sys.executable, "-m", "smartgate.cli"]
    ok = subprocess.run(
        [*smartgate, "map", "check", *map(str, MAPS)], capture_output=True, text=True, cwd=REPO
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("ok: ") == 2
    doc = _doc()
    _feature(doc, "I2")["properties"]["kind"] = "hovercraft"
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(doc), "utf-8")
    missing = tmp_path / "missing.geojson"
    res = subprocess.run(
        [*smartgate, "map", "check", str(bad), str(missing)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert res.returncode == 1
    assert f"{bad}: feature 'I2': unknown lane kind 'hovercraft'" in res.stderr
    assert f"{missing}: cannot read file" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
