"""RViz/Foxglove views of the fleet as visualization_msgs/MarkerArray.

Two arrays: the corridor map (lanes, zones, zero line; published once on a
transient-local topic so late viewers still get it) and the live fleet
(one box per vehicle, sized like a tractor with a 40 ft container, coloured by
status, plus its remaining planned route), in each corridor's map frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from fleet.core import Stretch
from fleet.vehicles import VehicleParams
from maps.corridor_map import CorridorMap
from ros_nodes.messages import map_frame, to_time, yaw_to_quat

_LANE_COLOURS = {
    ("driverless", "export"): (0.20, 0.75, 1.00),
    ("driverless", "import"): (1.00, 0.40, 0.70),
    ("traditional", "export"): (0.45, 0.45, 0.50),
    ("traditional", "import"): (0.45, 0.45, 0.50),
}
STATUS_COLOURS = {
    "idle": (0.85, 0.85, 0.85),
    "moving": (0.20, 0.85, 0.35),
    "holding": (1.00, 0.70, 0.10),
    "at_handoff": (0.65, 0.45, 1.00),
    "offline": (0.50, 0.50, 0.50),
}


def _colour(rgb: tuple[float, float, float], a: float = 1.0) -> ColorRGBA:
    return ColorRGBA(r=rgb[0], g=rgb[1], b=rgb[2], a=a)


def _strip(
    ns: str,
    mid: int,
    frame: str,
    coords: Any,
    width: float,
    rgb: tuple[float, float, float],
    z: float = 0.0,
    a: float = 1.0,
) -> Marker:
    m = Marker()
    m.header.frame_id = frame
    m.ns, m.id, m.type, m.action = ns, mid, Marker.LINE_STRIP, Marker.ADD
    m.pose.orientation.w = 1.0
    m.scale.x = width
    m.color = _colour(rgb, a)
    m.points = [Point(x=float(x), y=float(y), z=z) for x, y in coords]
    return m


def map_markers(cmap: CorridorMap) -> MarkerArray:
    """Lanes (coloured by kind and direction), connectors, zones and the zero line."""
    frame = map_frame(cmap.id)
    out = MarkerArray()
    for i, lf in enumerate(sorted(cmap.lines.values(), key=lambda f: f.id)):
        rgb = _LANE_COLOURS.get((lf.kind, lf.direction or ""), (0.55, 0.75, 0.95))
        out.markers.append(
            _strip(f"{cmap.id}/lanes", i, frame, lf.line.coords, lf.width_m * 0.8, rgb)
        )
    for i, z in enumerate(sorted(cmap.zones.values(), key=lambda z: z.id)):
        out.markers.append(
            _strip(
                f"{cmap.id}/zones",
                i,
                frame,
                z.polygon.exterior.coords,
                0.6,
                (0.9, 0.8, 0.3),
                0.05,
                0.7,
            )
        )
    out.markers.append(
        _strip(f"{cmap.id}/zero_line", 0, frame, cmap.zero_line.coords, 1.5, (1.0, 0.1, 0.1), 0.1)
    )
    return out


def fleet_markers(
    views: list[dict[str, Any]],
    stamp: float,
    routes: dict[str, Any],
    reserved: Sequence[Stretch] = (),
) -> MarkerArray:
    """One box per vehicle, its planned route (``routes``: vehicle id -> metric coords) and
    the stretch it holds (``reserved``: from its front to its reservation end, a wide
    translucent band: green while online, grey while offline and kept blocked)."""
    p = VehicleParams()
    out = MarkerArray()
    clear = Marker()
    clear.action = Marker.DELETEALL
    out.markers.append(clear)
    for i, v in enumerate(sorted(views, key=lambda v: v["id"])):
        frame = map_frame(v["corridor"])
        box = Marker()
        box.header.frame_id = frame
        box.header.stamp = to_time(stamp)
        box.ns, box.id, box.type, box.action = "vehicles", i, Marker.CUBE, Marker.ADD
        box.pose.position.x, box.pose.position.y, box.pose.position.z = v["x_m"], v["y_m"], 2.0
        _, _, box.pose.orientation.z, box.pose.orientation.w = yaw_to_quat(v["yaw_rad"])
        box.scale.x, box.scale.y, box.scale.z = p.length_m, p.width_m, 4.0
        box.color = _colour(STATUS_COLOURS.get(v["status"], (1.0, 1.0, 1.0)))
        box.text = v["id"]
        out.markers.append(box)
        coords = routes.get(v["id"])
        if coords:
            out.markers.append(_strip("routes", i, frame, coords, 1.0, (1.0, 0.9, 0.2), 0.3, 0.8))
    status = {v["id"]: v["status"] for v in views}
    for i, r in enumerate(reserved):
        if len(r.coords) < 2:
            continue
        rgb = (0.5, 0.5, 0.5) if status.get(r.vehicle_id) == "offline" else (0.2, 0.9, 0.4)
        out.markers.append(
            _strip("reserved", i, map_frame(r.corridor), r.coords, 3.2, rgb, 0.2, 0.35)
        )
    return out
