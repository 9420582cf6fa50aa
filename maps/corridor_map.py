"""Read and validate a corridor map file (smartgate-map/1 GeoJSON).

Every rule in ``docs/map-format.md`` is checked here, and every problem is
reported with the file, the feature id and what is wrong, so an operator can
fix a map without reading Python. ``read_map`` either returns a fully valid
:class:`CorridorMap` (with metric geometry) or raises :class:`MapError`
listing all problems found; it never lets a raw exception escape.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
from geojson_pydantic import FeatureCollection
from pydantic import ValidationError
from shapely import LineString, Point, Polygon
from shapely.validation import explain_validity

from maps.projection import MapFrame

FORMAT = "smartgate-map/1"
FEATURE_TYPES = {
    "lane": "LineString",
    "connector": "LineString",
    "zone": "Polygon",
    "zero_line": "LineString",
    "stop_line": "LineString",
    "marker": "Point",
    "spot": "Point",
}
LANE_KINDS = ("driverless", "traditional")
DIRECTIONS = ("export", "import")
ZONE_KINDS = (
    "yard",
    "checkpoint",
    "scanning",
    "charging",
    "parking",
    "handoff",
    "inspection",
    "tunnel",
)
SIDES = ("VN", "CN")
SPOT_KINDS = ("loading", "charging", "parking", "inspection")
STOP_REASONS = ("zero_line", "checkpoint", "yard_exit")
SNAP_M = 0.5  # endpoints closer than this are the same junction


@dataclass(frozen=True)
class MapProblem:
    file: str
    feature: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: feature '{self.feature}'" if self.feature else self.file
        return f"{where}: {self.message}"


class MapError(Exception):
    """A map file failed validation; ``problems`` lists every finding."""

    def __init__(self, problems: list[MapProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LineFeature:
    """A lane or a yard connector in the metric frame, drawn in travel direction."""

    id: str
    type: str  # "lane" | "connector"
    kind: str  # "driverless" | "traditional" | "connector"
    direction: str | None
    speed_mps: float
    width_m: float
    line: LineString
    props: dict[str, Any]

    @property
    def guide(self) -> bool:
        """True where guide vehicles may drive (reserved lanes and connectors)."""
        return self.kind != "traditional"


@dataclass(frozen=True)
class Zone:
    id: str
    kind: str
    side: str
    polygon: Polygon
    props: dict[str, Any]


@dataclass(frozen=True)
class StopLine:
    id: str
    reason: str
    line: LineString


@dataclass(frozen=True)
class Spot:
    id: str
    kind: str
    name: str
    point: Point


@dataclass
class CorridorMap:
    """A validated corridor: header facts plus metric geometry of every feature."""

    id: str
    name: str
    name_en: str
    markers: list[str]
    frame: MapFrame
    region: tuple[float, float, float, float]
    geojson: dict[str, Any]
    lines: dict[str, LineFeature] = field(default_factory=dict)
    zones: dict[str, Zone] = field(default_factory=dict)
    stop_lines: dict[str, StopLine] = field(default_factory=dict)
    spots: dict[str, Spot] = field(default_factory=dict)
    marker_points: dict[str, Point] = field(default_factory=dict)
    zero_line: LineString = field(default_factory=lambda: LineString())

    def side_of(self, x: float, y: float) -> str:
        """Which country a metric point lies in, judged against the zero line."""
        (x0, y0), (x1, y1) = self.zero_line.coords[0], self.zero_line.coords[-1]
        cross = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)
        vn = [z.polygon.centroid for z in self.zones.values() if z.side == "VN"]
        ref = vn[0] if vn else None
        if ref is None:
            return "VN" if cross < 0 else "CN"
        ref_cross = (x1 - x0) * (ref.y - y0) - (y1 - y0) * (ref.x - x0)
        return "VN" if (cross > 0) == (ref_cross > 0) else "CN"


def _num(props: dict[str, Any], key: str) -> float | None:
    v = props.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        return None
    return float(v)


class _Reader:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[MapProblem] = []

    def err(self, feature: str | None, message: str) -> None:
        self.problems.append(MapProblem(self.name, feature, message))

    def fail(self) -> MapError:
        return MapError(self.problems)


def read_map(path: str | Path) -> CorridorMap:
    """Load and validate a map file; raise :class:`MapError` with every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MapError([MapProblem(str(p), None, f"cannot read file: {e}")]) from None
    return parse_map(text, str(p))


def parse_map(text: str, name: str = "<map>") -> CorridorMap:
    """Validate map text (see :func:`read_map`); ``name`` is used in messages."""
    r = _Reader(name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        r.err(None, f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}")
        raise r.fail() from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        r.err(None, "not a GeoJSON FeatureCollection (top-level 'type' must be FeatureCollection)")
        raise r.fail()
    try:
        FeatureCollection.model_validate(doc)
    except ValidationError as e:
        feats = doc.get("features")
        for item in e.errors()[:20]:
            loc = list(item["loc"])
            fid = None
            if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
                if isinstance(feats, list) and loc[1] < len(feats):
                    f = feats[loc[1]]
                    fid = str(f.get("id", f"#{loc[1]}")) if isinstance(f, dict) else f"#{loc[1]}"
                loc = loc[2:]
            where = ".".join(str(x) for x in loc if not isinstance(x, int) or True)
            r.err(fid, f"invalid GeoJSON at {where or 'top level'}: {item['msg']}")
        raise r.fail() from None
    header = doc.get("smartgate")
    if not isinstance(header, dict):
        r.err(None, "missing the 'smartgate' header object (format, corridor, region, ...)")
        raise r.fail()
    if header.get("format") != FORMAT:
        r.err(None, f"unsupported format {header.get('format')!r}; expected {FORMAT!r}")
    corridor = header.get("corridor")
    if not isinstance(corridor, str) or not corridor:
        r.err(None, "header 'corridor' must be a non-empty id")
    region = header.get("region")
    ok_region = (
        isinstance(region, list)
        and len(region) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in region)
        and region[0] < region[2]
        and region[1] < region[3]
    )
    if not ok_region:
        r.err(None, "header 'region' must be [min_lon, min_lat, max_lon, max_lat]")
    gate = header.get("gate")
    if not (
        isinstance(gate, list) and len(gate) == 2 and all(isinstance(v, (int, float)) for v in gate)
    ):
        r.err(None, "header 'gate' must be [lon, lat] of the corridor's gate")
    metric_crs = header.get("metric_crs", "EPSG:32648")
    if r.problems:
        raise r.fail()
    assert isinstance(region, list) and isinstance(gate, list) and isinstance(corridor, str)
    try:
        frame = MapFrame.at(float(gate[0]), float(gate[1]), str(metric_crs))
    except Exception as e:  # pyproj raises its own CRSError family
        r.err(None, f"cannot build metric frame for {metric_crs!r}: {e}")
        raise r.fail() from None
    cmap = CorridorMap(
        id=corridor,
        name=str(header.get("name", corridor)),
        name_en=str(header.get("name_en", header.get("name", corridor))),
        markers=[str(m) for m in header.get("markers", [])],
        frame=frame,
        region=(float(region[0]), float(region[1]), float(region[2]), float(region[3])),
        geojson=doc,
    )
    _read_features(r, doc["features"], cmap)
    if r.problems:
        raise r.fail()
    _check_topology(r, cmap)
    if r.problems:
        raise r.fail()
    return cmap


def _read_features(r: _Reader, feats: list[dict[str, Any]], cmap: CorridorMap) -> None:
    seen: set[str] = set()
    zero_lines: list[str] = []
    lo_lon, lo_lat, hi_lon, hi_lat = cmap.region
    for i, f in enumerate(feats):
        fid = f.get("id")
        if not isinstance(fid, (str, int)) or isinstance(fid, bool) or str(fid) == "":
            r.err(f"#{i}", "feature has no 'id'")
            continue
        fid = str(fid)
        if fid in seen:
            r.err(fid, "duplicate feature id")
            continue
        seen.add(fid)
        props = f.get("properties") or {}
        ftype = props.get("type")
        if ftype not in FEATURE_TYPES:
            r.err(
                fid, f"unknown feature type {ftype!r}; expected one of {', '.join(FEATURE_TYPES)}"
            )
            continue
        geom = f.get("geometry") or {}
        if geom.get("type") != FEATURE_TYPES[ftype]:
            r.err(fid, f"a {ftype} must be a {FEATURE_TYPES[ftype]}, not {geom.get('type')}")
            continue
        coords = geom["coordinates"]
        flat = [coords] if ftype in ("marker", "spot") else coords
        if ftype == "zone":
            flat = [pt for ring in coords for pt in ring]
        outside = [
            pt for pt in flat if not (lo_lon <= pt[0] <= hi_lon and lo_lat <= pt[1] <= hi_lat)
        ]
        if outside:
            lon, lat = outside[0][0], outside[0][1]
            r.err(
                fid,
                f"coordinate ({lon}, {lat}) lies outside the map region "
                f"[{lo_lon}, {lo_lat}, {hi_lon}, {hi_lat}] (lon, lat order?)",
            )
            continue

        def xy(pts: list[list[float]]) -> list[tuple[float, float]]:
            return [cmap.frame.to_xy(pt[0], pt[1]) for pt in pts]

        if ftype in ("lane", "connector"):
            _read_line(r, fid, ftype, props, LineString(xy(coords)), cmap)
        elif ftype == "zone":
            _read_zone(r, fid, props, Polygon(xy(coords[0]), [xy(h) for h in coords[1:]]), cmap)
        elif ftype == "zero_line":
            zero_lines.append(fid)
            cmap.zero_line = LineString(xy(coords))
        elif ftype == "stop_line":
            reason = props.get("reason")
            if reason not in STOP_REASONS:
                r.err(
                    fid,
                    f"unknown stop line reason {reason!r}; expected one of "
                    f"{', '.join(STOP_REASONS)}",
                )
                continue
            cmap.stop_lines[fid] = StopLine(fid, str(reason), LineString(xy(coords)))
        elif ftype == "marker":
            cmap.marker_points[str(props.get("number", fid))] = Point(xy([coords])[0])
        elif ftype == "spot":
            kind = props.get("kind")
            if kind not in SPOT_KINDS:
                r.err(fid, f"unknown spot kind {kind!r}; expected one of {', '.join(SPOT_KINDS)}")
                continue
            cmap.spots[fid] = Spot(
                fid, str(kind), str(props.get("name", fid)), Point(xy([coords])[0])
            )
    if len(zero_lines) != 1:
        r.err(None, f"a map needs exactly one zero_line feature, found {len(zero_lines)}")


def _read_line(
    r: _Reader, fid: str, ftype: str, props: dict[str, Any], line: LineString, cmap: CorridorMap
) -> None:
    if ftype == "lane":
        kind = props.get("kind")
        if kind not in LANE_KINDS:
            r.err(fid, f"unknown lane kind {kind!r}; expected one of {', '.join(LANE_KINDS)}")
            return
        direction = props.get("direction")
        if direction not in DIRECTIONS:
            r.err(fid, f"unknown lane direction {direction!r}; expected export or import")
            return
    else:
        kind, direction = "connector", props.get("direction")
    speed = _num(props, "speed_limit_kmh")
    width = _num(props, "width_m")
    if speed is None:
        r.err(fid, "speed_limit_kmh must be a positive number")
        return
    if width is None:
        r.err(fid, "width_m must be a positive number")
        return
    if line.length < 1.0:
        r.err(fid, f"{ftype} is shorter than 1 m ({line.length:.2f} m)")
        return
    if not line.is_simple:
        r.err(fid, f"{ftype} crosses itself")
        return
    cmap.lines[fid] = LineFeature(
        fid,
        ftype,
        str(kind),
        str(direction) if direction else None,
        speed / 3.6,
        width,
        line,
        dict(props),
    )


def _read_zone(
    r: _Reader, fid: str, props: dict[str, Any], poly: Polygon, cmap: CorridorMap
) -> None:
    kind, side = props.get("kind"), props.get("side")
    if kind not in ZONE_KINDS:
        r.err(fid, f"unknown zone kind {kind!r}; expected one of {', '.join(ZONE_KINDS)}")
        return
    if side not in SIDES:
        r.err(fid, f"zone side must be VN or CN, not {side!r}")
        return
    if not poly.is_valid:
        r.err(fid, f"invalid polygon: {explain_validity(poly)}")
        return
    cmap.zones[fid] = Zone(fid, str(kind), str(side), poly, dict(props))


def _check_topology(r: _Reader, cmap: CorridorMap) -> None:
    """Connectivity, crossing and stop-line rules (needs all features read)."""
    lines = cmap.lines
    for fid, lf in lines.items():
        for end_name, pt in (
            ("start", Point(lf.line.coords[0])),
            ("end", Point(lf.line.coords[-1])),
        ):
            joined = any(
                other.guide == lf.guide and other.line.distance(pt) <= SNAP_M
                for oid, other in lines.items()
                if oid != fid
            )
            in_zone = not lf.guide and any(z.polygon.contains(pt) for z in cmap.zones.values())
            if not (joined or in_zone):
                hint = (
                    "another reserved lane or connector" if lf.guide else "another lane or a zone"
                )
                r.err(
                    fid,
                    f"{lf.type} does not connect: its {end_name} point "
                    f"({pt.x:.1f}, {pt.y:.1f}) m touches no {hint}",
                )
        if lf.kind == "driverless" and not lf.line.intersects(cmap.zero_line):
            r.err(fid, "reserved driverless lane never crosses the zero line")
    for sid, sl in cmap.stop_lines.items():
        if not any(sl.line.intersects(lf.line) for lf in lines.values()):
            r.err(sid, "stop line crosses no lane or connector")
    for sp in cmap.spots.values():
        if not any(lf.guide and lf.line.distance(sp.point) <= 3.0 for lf in lines.values()):
            r.err(sp.id, "spot is not within 3 m of any reserved lane or connector")
    if r.problems:
        return
    # The guide network must let a vehicle get from anywhere to anywhere.
    g = nx.DiGraph()
    guide = {fid: lf for fid, lf in lines.items() if lf.guide}
    for fid, lf in guide.items():
        g.add_node(fid)
        end = Point(lf.line.coords[-1])
        for oid, other in guide.items():
            # Flow A -> B where A ends on B, or B starts on A (a T-junction).
            if oid != fid and (
                other.line.distance(end) <= SNAP_M
                or lf.line.distance(Point(other.line.coords[0])) <= SNAP_M
            ):
                g.add_edge(fid, oid)
    if guide and not nx.is_strongly_connected(g):
        comps = sorted(nx.strongly_connected_components(g), key=len, reverse=True)
        for comp in comps[1:]:
            for fid in sorted(comp):
                r.err(
                    fid,
                    "not reachable in both directions from the rest of the reserved "
                    "network (a dead end or an island)",
                )
