"""Generate an SDFormat 1.9 world for a corridor from its map (``smartgate world build``).

The world is derived, never hand-edited: a map change plus a rebuild is the only way to change
it, so the Gazebo scene can never drift from the lane graph the orchestrator plans on. Every
coordinate is in the corridor's local metric frame (x east, y north, metres from the gate), the
same frame as the lane graph, ROS messages and the in-process simulator, so a pose published by
Gazebo needs no conversion.

What goes in: the gz-sim systems a Gazebo Harmonic server needs to run the world, a sun, a ground
plane sized to the map, lanes and connectors as thin visual-only boxes (vehicles drive on the
ground plane's collision, so lane paint never makes them bump), the zero line, zones as flat
extruded polylines, canopies with collision over checkpoints and scanners, spot pads, border
marker pillars, and one tractor + 40 ft container model per guide vehicle carrying the
AckermannSteering and OdometryPublisher systems on the topics of ``docs/ros-interfaces.md``.

Output is deterministic: features are emitted in sorted order and numbers are rounded to
millimetres (angles to micro-radians), so the same map always gives a byte-identical file.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from shapely import LineString, Point, Polygon

from fleet.vehicles import VehicleParams, validate_vehicle_id
from maps.corridor_map import CorridorMap, read_map

SDF_VERSION = "1.9"
REPO = Path(__file__).resolve().parent.parent
WORLDS_DIR = Path(__file__).resolve().parent / "worlds"
SHIPPED_MAPS = (REPO / "maps" / "huu-nghi.geojson", REPO / "maps" / "tan-thanh.geojson")
HOME_NODE = "vn-spot-L1"

Vehicle = tuple[str, float, float, float]  # (id, x, y, yaw) in the map frame
RGBA = tuple[float, float, float, float]

LINE_STYLE: dict[str, tuple[RGBA, float]] = {  # kind -> (colour, paint height m)
    "traditional": ((0.35, 0.35, 0.35, 1.0), 0.02),
    "connector": ((0.55, 0.75, 0.95, 1.0), 0.022),
    "export": ((0.1, 0.45, 0.85, 1.0), 0.025),  # driverless VN -> CN
    "import": ((0.1, 0.7, 0.35, 1.0), 0.025),  # driverless CN -> VN
}
ZONE_COLOUR: dict[str, RGBA] = {
    "yard": (0.78, 0.74, 0.62, 1.0),
    "checkpoint": (0.95, 0.8, 0.3, 1.0),
    "scanning": (0.95, 0.6, 0.2, 1.0),
    "charging": (0.5, 0.85, 0.5, 1.0),
    "parking": (0.7, 0.7, 0.8, 1.0),
    "handoff": (0.85, 0.55, 0.85, 1.0),
    "inspection": (0.9, 0.7, 0.7, 1.0),
    "tunnel": (0.25, 0.25, 0.28, 1.0),
}
SPOT_COLOUR: dict[str, RGBA] = {
    "charging": (0.1, 0.9, 0.2, 1.0),
    "loading": (1.0, 1.0, 1.0, 1.0),
    "parking": (0.6, 0.6, 0.9, 1.0),
    "inspection": (0.95, 0.4, 0.4, 1.0),
}
ZONE_HEIGHT_M = 0.01
ZERO_LINE = ((0.9, 0.05, 0.05, 1.0), 0.03, 0.6)  # colour, height, width
STOP_LINE = ((1.0, 1.0, 1.0, 1.0), 0.028, 0.4)
CANOPY_CLEARANCE_M = 6.0  # a loaded 40 ft container stands about 4 m tall
GROUND_MARGIN_M = 100.0

# Vehicle geometry: model origin = tractor rear-axle centre on the ground (the reference point
# of the kinematic bicycle model), x forward. The trailer hangs on a fifth-wheel joint.
WHEEL_RADIUS = 0.5
WHEEL_WIDTH = 0.3
TRACK = 2.1  # wheel_separation, wheel centre to wheel centre
KINGPIN_WIDTH = 1.8
FRONT_OVERHANG = 1.4
KINGPIN_X = 0.3
DECK_Z = 1.25
CONTAINER = (12.192, 2.438, 2.591)  # ISO 40 ft, metres


def _n(v: float, digits: int = 3) -> str:
    """A number rounded for stable output (no '-0', no trailing zeros)."""
    s = f"{round(v, digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _vec(*vals: float) -> str:
    return " ".join(_n(v) for v in vals)


def _pose(
    x: float, y: float, z: float, roll: float = 0.0, pitch: float = 0.0, yaw: float = 0.0
) -> str:
    return " ".join([_n(x), _n(y), _n(z), _n(roll, 6), _n(pitch, 6), _n(yaw, 6)])


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _material(parent: ET.Element, rgba: RGBA) -> None:
    m = _sub(parent, "material")
    _sub(m, "ambient", _vec(*rgba))
    _sub(m, "diffuse", _vec(*rgba))
    _sub(m, "specular", "0.1 0.1 0.1 1")


def _geometry(parent: ET.Element, kind: str, **params: str) -> None:
    g = _sub(_sub(parent, "geometry"), kind)
    for k, v in params.items():
        _sub(g, k, v)


def _shape(
    link: ET.Element,
    name: str,
    pose: str,
    kind: str,
    params: dict[str, str],
    rgba: RGBA | None,
    collide: bool,
) -> None:
    """A visual (and optionally a matching collision) of one primitive shape."""
    if collide:
        c = _sub(link, "collision", name=f"{name}_collision")
        _sub(c, "pose", pose)
        _geometry(c, kind, **params)
    v = _sub(link, "visual", name=name)
    _sub(v, "pose", pose)
    _geometry(v, kind, **params)
    if rgba is not None:
        _material(v, rgba)


def _inertial(link: ET.Element, mass: float, size: tuple[float, float, float]) -> None:
    """Solid-box inertia: good enough for physics to be stable, we do not tune dynamics."""
    lx, ly, lz = size
    i = _sub(link, "inertial")
    _sub(i, "mass", _n(mass))
    t = _sub(i, "inertia")
    for key, val in (
        ("ixx", mass / 12 * (ly**2 + lz**2)),
        ("ixy", 0.0),
        ("ixz", 0.0),
        ("iyy", mass / 12 * (lx**2 + lz**2)),
        ("iyz", 0.0),
        ("izz", mass / 12 * (lx**2 + ly**2)),
    ):
        _sub(t, key, _n(val))


def _static_model(world: ET.Element, name: str, pose: str | None = None) -> ET.Element:
    m = _sub(world, "model", name=name)
    _sub(m, "static", "true")
    if pose is not None:
        _sub(m, "pose", pose)
    return _sub(m, "link", name="link")


class _Names:
    """Valid, unique SDF/gz names: gz topics embed model names, so keep [A-Za-z0-9_-]."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, raw: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", raw).strip("_") or "unnamed"
        name, n = base, 2
        while name in self.used:
            name, n = f"{base}_{n}", n + 1
        self.used.add(name)
        return name


def _strip(link: ET.Element, line: LineString, width: float, height: float, rgba: RGBA) -> None:
    """One thin box per straight segment of a polyline, lying on the ground."""
    coords = list(line.coords)
    for i, ((x0, y0), (x1, y1)) in enumerate(itertools.pairwise(coords)):
        length = math.hypot(x1 - x0, y1 - y0)
        if length < 1e-3:
            continue
        yaw = math.atan2(y1 - y0, x1 - x0)
        pose = _pose((x0 + x1) / 2, (y0 + y1) / 2, height / 2, yaw=yaw)
        size = _vec(length, width, height)
        _shape(link, f"seg_{i}", pose, "box", {"size": size}, rgba, collide=False)


def _rect(poly: Polygon) -> tuple[float, float, float, float, float]:
    """Centre, length, width and yaw of a polygon's minimum rotated rectangle."""
    rect = poly.minimum_rotated_rectangle
    pts = list(rect.exterior.coords)[:4]
    (ax, ay), (bx, by), (cx, cy) = pts[0], pts[1], pts[2]
    e1, e2 = math.hypot(bx - ax, by - ay), math.hypot(cx - bx, cy - by)
    if e1 >= e2:
        yaw, length, width = math.atan2(by - ay, bx - ax), e1, e2
    else:
        yaw, length, width = math.atan2(cy - by, cx - bx), e2, e1
    yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    if yaw > math.pi / 2 or yaw <= -math.pi / 2:  # a rectangle's heading is modulo pi
        yaw = yaw - math.pi if yaw > 0 else yaw + math.pi
    c = rect.centroid
    return float(c.x), float(c.y), length, width, yaw


def _canopy(world: ET.Element, name: str, poly: Polygon, cmap: CorridorMap) -> None:
    """A roof over the lanes plus pillars where they stay clear of every lane."""
    cx, cy, length, width, yaw = _rect(poly)
    link = _static_model(world, name, _pose(cx, cy, 0.0, yaw=yaw))
    roof = (length + 2.0, width + 2.0, 0.4)
    _shape(
        link,
        "roof",
        _pose(0, 0, CANOPY_CLEARANCE_M + roof[2] / 2),
        "box",
        {"size": _vec(*roof)},
        (0.92, 0.92, 0.95, 1.0),
        collide=True,
    )
    c, s = math.cos(yaw), math.sin(yaw)
    hx, hy = length / 2 + 0.8, width / 2 + 0.8
    for i, (px, py) in enumerate(((hx, hy), (-hx, hy), (-hx, -hy), (hx, -hy))):
        wx, wy = cx + c * px - s * py, cy + s * px + c * py
        clear = all(
            lf.line.distance(Point(wx, wy)) > lf.width_m / 2 + 0.5 for lf in cmap.lines.values()
        )
        if clear:
            _shape(
                link,
                f"pillar_{i}",
                _pose(px, py, CANOPY_CLEARANCE_M / 2),
                "box",
                {"size": _vec(0.4, 0.4, CANOPY_CLEARANCE_M)},
                (0.6, 0.6, 0.62, 1.0),
                collide=True,
            )


def _zone(world: ET.Element, name: str, poly: Polygon, rgba: RGBA, height: float) -> None:
    """A flat extruded polygon (SDF <polyline>) relative to the zone's centroid."""
    c = poly.centroid
    link = _static_model(world, name, _pose(float(c.x), float(c.y), 0.0))
    v = _sub(link, "visual", name="area")
    g = _sub(_sub(v, "geometry"), "polyline")
    for x, y in list(poly.exterior.coords)[:-1]:
        _sub(g, "point", _vec(x - c.x, y - c.y))
    _sub(g, "height", _n(height))
    _material(v, rgba)


def _systems(world: ET.Element) -> None:
    """The server systems a Harmonic world needs: physics, commands, scene for the GUI.

    No Sensors system: the world has no rendering sensors, and loading it would force a render
    engine on headless CI machines.
    """
    for filename, name in (
        ("gz-sim-physics-system", "gz::sim::systems::Physics"),
        ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
        ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
    ):
        _sub(world, "plugin", filename=filename, name=name)


def _sun(world: ET.Element) -> None:
    light = _sub(world, "light", type="directional", name="sun")
    _sub(light, "cast_shadows", "true")
    _sub(light, "pose", "0 0 100 0 0 0")
    _sub(light, "diffuse", "0.8 0.8 0.8 1")
    _sub(light, "specular", "0.2 0.2 0.2 1")
    att = _sub(light, "attenuation")
    _sub(att, "range", "5000")
    _sub(att, "constant", "0.9")
    _sub(att, "linear", "0.01")
    _sub(att, "quadratic", "0.001")
    _sub(light, "direction", "-0.5 0.1 -0.9")


def _ground(world: ET.Element, cmap: CorridorMap) -> None:
    geoms = [lf.line for lf in cmap.lines.values()] + [z.polygon for z in cmap.zones.values()]
    geoms += [cmap.zero_line, *cmap.marker_points.values()]
    xs = [b for g in geoms for b in (g.bounds[0], g.bounds[2])]
    ys = [b for g in geoms for b in (g.bounds[1], g.bounds[3])]
    x0, x1 = min(xs) - GROUND_MARGIN_M, max(xs) + GROUND_MARGIN_M
    y0, y1 = min(ys) - GROUND_MARGIN_M, max(ys) + GROUND_MARGIN_M
    # Whole metres keep the plane stable under sub-millimetre map edits.
    x0, x1, y0, y1 = math.floor(x0), math.ceil(x1), math.floor(y0), math.ceil(y1)
    m = _sub(world, "model", name="ground_plane")
    _sub(m, "static", "true")
    _sub(m, "pose", _pose((x0 + x1) / 2, (y0 + y1) / 2, 0.0))
    link = _sub(m, "link", name="link")
    plane = {"normal": "0 0 1", "size": _vec(x1 - x0, y1 - y0)}
    c = _sub(link, "collision", name="collision")
    _geometry(c, "plane", **plane)
    v = _sub(link, "visual", name="visual")
    _geometry(v, "plane", **plane)
    _material(v, (0.45, 0.5, 0.4, 1.0))


def _vehicle(
    world: ET.Element, cmap: CorridorMap, vid: str, x: float, y: float, yaw: float
) -> None:
    """Tractor (steered front, driven rear axle) towing a 40 ft container on a fifth wheel."""
    p = VehicleParams()
    wb, r = p.wheelbase_m, WHEEL_RADIUS
    front = wb + FRONT_OVERHANG
    rear = front - p.length_m
    m = _sub(world, "model", name=vid)
    _sub(m, "pose", _pose(x, y, 0.0, yaw=yaw))
    body = (0.6, 0.1, 0.1, 1.0)
    tyre = (0.08, 0.08, 0.08, 1.0)

    chassis = _sub(m, "link", name="base_link")
    frame_len = front + 1.0
    _inertial(chassis, 8000.0, (frame_len, 1.0, 1.5))
    _shape(
        chassis,
        "frame",
        _pose(front - frame_len / 2, 0, 0.9),
        "box",
        {"size": _vec(frame_len, 1.0, 0.4)},
        (0.2, 0.2, 0.2, 1.0),
        collide=True,
    )
    cab = (2.3, p.width_m - 0.05, 2.4)
    _shape(
        chassis,
        "cab",
        _pose(front - cab[0] / 2, 0, 1.1 + cab[2] / 2),
        "box",
        {"size": _vec(*cab)},
        body,
        collide=True,
    )

    trailer = _sub(m, "link", name="trailer")
    _sub(trailer, "pose", _pose(KINGPIN_X, 0, DECK_Z))
    deck_len = KINGPIN_X + 0.9 - rear
    deck_cx = rear + deck_len / 2 - KINGPIN_X
    _inertial(trailer, 10000.0, (deck_len, p.width_m, 3.0))
    _shape(
        trailer,
        "deck",
        _pose(deck_cx, 0, 0),
        "box",
        {"size": _vec(deck_len, p.width_m - 0.05, 0.3)},
        (0.25, 0.25, 0.25, 1.0),
        collide=True,
    )
    _shape(
        trailer,
        "container",
        _pose(deck_cx, 0, 0.15 + CONTAINER[2] / 2),
        "box",
        {"size": _vec(*CONTAINER)},
        (0.1, 0.35, 0.6, 1.0),
        collide=True,
    )
    hitch = _sub(m, "joint", name="fifth_wheel_joint", type="revolute")
    _sub(hitch, "parent", "base_link")
    _sub(hitch, "child", "trailer")
    axis = _sub(hitch, "axis")
    _sub(axis, "xyz", "0 0 1")
    lim = _sub(axis, "limit")
    _sub(lim, "lower", "-1.3")
    _sub(lim, "upper", "1.3")

    def wheel(name: str, parent: str, px: float, py: float) -> None:
        # Link poses are in the model frame; the tyre cylinder is turned to lie along y.
        link = _sub(m, "link", name=name)
        _sub(link, "pose", _pose(px, py, r))
        _inertial(link, 100.0, (2 * r, WHEEL_WIDTH, 2 * r))
        _shape(
            link,
            "tyre",
            _pose(0, 0, 0, roll=math.pi / 2),
            "cylinder",
            {"radius": _n(r), "length": _n(WHEEL_WIDTH)},
            tyre,
            collide=True,
        )
        j = _sub(m, "joint", name=f"{name}_joint", type="revolute")
        _sub(j, "parent", parent)
        _sub(j, "child", name)
        _sub(_sub(j, "axis"), "xyz", "0 1 0")

    half = TRACK / 2
    for side, sy in (("left", half), ("right", -half)):
        steer = _sub(m, "link", name=f"front_{side}_wheel_steering_link")
        _sub(steer, "pose", _pose(wb, sy, r))
        _inertial(steer, 10.0, (0.2, 0.2, 0.2))
        sj = _sub(m, "joint", name=f"front_{side}_wheel_steering_joint", type="revolute")
        _sub(sj, "parent", "base_link")
        _sub(sj, "child", f"front_{side}_wheel_steering_link")
        sa = _sub(sj, "axis")
        _sub(sa, "xyz", "0 0 1")
        sl = _sub(sa, "limit")
        _sub(sl, "lower", _n(-p.max_steer_rad, 6))
        _sub(sl, "upper", _n(p.max_steer_rad, 6))
        wheel(f"front_{side}_wheel", f"front_{side}_wheel_steering_link", wb, sy)
        wheel(f"rear_{side}_wheel", "base_link", 0.0, sy)
        wheel(f"trailer_{side}_wheel", "trailer", rear + 2.0, sy)

    ack = _sub(
        m,
        "plugin",
        filename="gz-sim-ackermann-steering-system",
        name="gz::sim::systems::AckermannSteering",
    )
    for tag, text in (
        ("left_joint", "front_left_wheel_joint"),
        ("left_joint", "rear_left_wheel_joint"),
        ("right_joint", "front_right_wheel_joint"),
        ("right_joint", "rear_right_wheel_joint"),
        ("left_steering_joint", "front_left_wheel_steering_joint"),
        ("right_steering_joint", "front_right_wheel_steering_joint"),
        ("kingpin_width", _n(KINGPIN_WIDTH)),
        ("steering_limit", _n(p.max_steer_rad, 6)),
        ("wheel_base", _n(wb)),
        ("wheel_separation", _n(TRACK)),
        ("wheel_radius", _n(r)),
        ("min_velocity", "0"),
        ("max_velocity", _n(p.max_speed_mps)),
        ("min_acceleration", _n(-p.max_decel_mps2)),
        ("max_acceleration", _n(p.max_accel_mps2)),
        ("topic", f"/model/{vid}/cmd_vel"),
        # Wheel odometry goes aside: /model/<id>/odometry belongs to OdometryPublisher.
        ("odom_topic", f"/model/{vid}/wheel_odometry"),
        ("tf_topic", f"/model/{vid}/wheel_odometry/tf"),
    ):
        _sub(ack, tag, text)
    odo = _sub(
        m,
        "plugin",
        filename="gz-sim-odometry-publisher-system",
        name="gz::sim::systems::OdometryPublisher",
    )
    for tag, text in (
        ("odom_frame", f"{cmap.id}/map"),
        ("robot_base_frame", vid),
        ("odom_topic", f"/model/{vid}/odometry"),
        ("odom_publish_frequency", "10"),
        ("dimensions", "2"),
    ):
        _sub(odo, tag, text)


def build_world(cmap: CorridorMap, vehicles: list[Vehicle] | None = None) -> str:
    """The corridor's SDFormat 1.9 world as pretty-printed XML text (see the module docstring).

    ``vehicles`` are ``(id, x, y, yaw)`` in the map frame; ids follow the fleet's rule (a
    letter, then letters, digits or '_') because they become gz and ROS topic names.
    """
    names = _Names()
    root = ET.Element("sdf", version=SDF_VERSION)
    world = _sub(root, "world", name=names(cmap.id))
    physics = _sub(world, "physics", name="2ms", type="ignored")
    _sub(physics, "max_step_size", "0.002")
    _sub(physics, "real_time_factor", "1")
    _systems(world)
    _sub(world, "gravity", "0 0 -9.8")
    scene = _sub(world, "scene")
    _sub(scene, "ambient", "0.6 0.6 0.6 1")
    _sub(scene, "background", "0.7 0.8 0.9 1")
    _sub(scene, "shadows", "true")
    _sub(scene, "grid", "false")
    _sun(world)
    _ground(world, cmap)

    for z in sorted(cmap.zones.values(), key=lambda z: z.id):
        _zone(world, names(f"zone_{z.id}"), z.polygon, ZONE_COLOUR[z.kind], ZONE_HEIGHT_M)
    for lf in sorted(cmap.lines.values(), key=lambda f: f.id):
        style = lf.kind if lf.kind != "driverless" else str(lf.direction)
        rgba, height = LINE_STYLE[style]
        link = _static_model(world, names(f"{lf.type}_{lf.id}"))
        _strip(link, lf.line, lf.width_m, height, rgba)
    rgba, height, width = ZERO_LINE
    _strip(_static_model(world, names("zero_line")), cmap.zero_line, width, height, rgba)
    rgba, height, width = STOP_LINE
    for sl in sorted(cmap.stop_lines.values(), key=lambda s: s.id):
        _strip(_static_model(world, names(f"stop_line_{sl.id}")), sl.line, width, height, rgba)
    for z in sorted(cmap.zones.values(), key=lambda z: z.id):
        if z.kind in ("checkpoint", "scanning"):
            _canopy(world, names(f"canopy_{z.id}"), z.polygon, cmap)
    for sp in sorted(cmap.spots.values(), key=lambda s: s.id):
        link = _static_model(world, names(f"spot_{sp.id}"), _pose(sp.point.x, sp.point.y, 0.0))
        radius = "1.5" if sp.kind == "charging" else "1"
        params = {"radius": radius, "length": "0.04"}
        _shape(link, "pad", _pose(0, 0, 0.02), "cylinder", params, SPOT_COLOUR[sp.kind], False)
    for number in sorted(cmap.marker_points):
        pt = cmap.marker_points[number]
        link = _static_model(world, names(f"marker_{number}"), _pose(pt.x, pt.y, 0.0))
        params = {"radius": "0.3", "length": "1.8"}
        _shape(link, "pillar", _pose(0, 0, 0.9), "cylinder", params, (0.95, 0.95, 0.9, 1.0), True)

    for vid, x, y, yaw in vehicles or []:
        validate_vehicle_id(vid)
        if vid in names.used:
            raise ValueError(f"vehicle id {vid!r} is already used by another model")
        names.used.add(vid)
        _vehicle(world, cmap, vid, x, y, yaw)

    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    header = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!-- generated by smartgate world build from maps/{cmap.id}.geojson; do not edit -->\n"
    )
    return header + body + "\n"


def default_vehicles(cmap: CorridorMap) -> list[Vehicle]:
    """One guide vehicle standing at ``vn-spot-L1``, facing along its first out-edge.

    Same placement rule as ``fleet.core`` uses for a vehicle registered at a node, so the world
    and the orchestrator agree where the vehicle starts. Id: corridor initials + ``_01``.
    """
    from maps.lane_graph import build_lane_graph, heading_out_of, node_attrs

    g = build_lane_graph(cmap)
    node = node_attrs(g, HOME_NODE)
    yaw = heading_out_of(g, HOME_NODE)
    prefix = "".join(part[0] for part in cmap.id.split("-") if part) or "gv"
    return [(f"{prefix}_01", float(node["x"]), float(node["y"]), yaw)]


def world_path(corridor: str) -> Path:
    """Where the committed world of a corridor lives."""
    return WORLDS_DIR / f"{corridor}.sdf"


def write_world(map_path: str | Path, out: str | Path | None = None) -> Path:
    """Read a map, build its world with the default vehicle and write it; return the path.

    The file is only rewritten when its content changes, so a no-op rebuild keeps mtimes.
    """
    cmap = read_map(map_path)
    text = build_world(cmap, default_vehicles(cmap))
    target = Path(out) if out is not None else world_path(cmap.id)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target
