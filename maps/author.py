"""Authoring tool that drew the two corridor maps (``python -m maps.author``).

The GeoJSON files in ``maps/`` are the source of truth; this script only
records *how* they were drawn from public facts (domain brief), so that a
corrected fact (a new gate position, a widened road) can be re-drawn
reproducibly. Nothing at run time imports it.

Geometry is laid out in a corridor frame: ``s`` is chainage in metres along
the road (0 at the zero line, negative in Viet Nam), ``d`` the lateral offset
in metres to the right of the export direction. Public facts used:

- Hữu Nghị gate 21.9711 N, 106.7108 E; road 1119-1120 about 902 m (700 m VN,
  202 m CN); driverless route about 3.6 km (0.5 km VN, 3.1 km CN).
- Tân Thanh gate 22.0031 N, 106.6839 E; Puzhai driverless channel about
  2.4 km with a tunnel (the VN/CN split is not published: 0.9 / 1.5 km here).
- 8 lanes per road, 4 export + 4 import, one of each reserved for driverless
  vehicles; right-hand traffic; the reserved pair runs in a closed area east
  of the traditional lanes behind a barrier.
Bearings, yard layouts and checkpoint positions are plausible, not surveyed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely import LineString, Polygon
from shapely.ops import substring

from maps.projection import MapFrame

LANE_W = 3.5
TRAD_SPEED = 40.0
GUIDE_SPEED = 25.0
YARD_SPEED = 10.0
D_I4, D_E4 = 14.25, 17.75  # reserved pair behind a 2 m barrier, for 3 lanes each way
BAND = (12.5, 19.5)


@dataclass
class CorridorSpec:
    id: str
    name: str
    name_en: str
    markers: tuple[str, str]
    gate: tuple[float, float]  # lon, lat
    legs: list[tuple[float, float]]  # (length m, bearing deg from north)
    s_start: float
    trad: tuple[float, float]  # traditional lanes chainage span
    guide: tuple[float, float]  # driverless lanes chainage span (VN yard .. CN yard)
    vn_yard: tuple[str, str]  # name_vi, name_en
    cn_yard: tuple[str, str]
    tunnel: tuple[float, float] | None = None
    traditional_per_direction: int = 3
    notes: list[str] = field(default_factory=list)


class Frame:
    """(s, d) corridor coordinates -> local metric (x east, y north)."""

    def __init__(self, spec: CorridorSpec) -> None:
        pts = [(0.0, 0.0)]
        for length, bearing in spec.legs:
            b = math.radians(bearing)
            x, y = pts[-1]
            pts.append((x + length * math.sin(b), y + length * math.cos(b)))
        line = LineString(pts)
        zero = line.interpolate(-spec.s_start)
        self.s_start = spec.s_start
        self.line = LineString([(x - zero.x, y - zero.y) for x, y in pts])

    def xy(self, s: float, d: float) -> tuple[float, float]:
        t = s - self.s_start
        p0, p1 = self.line.interpolate(t - 0.5), self.line.interpolate(t + 0.5)
        tx, ty = p1.x - p0.x, p1.y - p0.y
        n = math.hypot(tx, ty)
        p = self.line.interpolate(t)
        return p.x + d * ty / n, p.y - d * tx / n

    def band(self, s0: float, s1: float, d: float) -> list[tuple[float, float]]:
        """A line at lateral offset d from s0 to s1 (reversed when s1 < s0)."""
        a, b = sorted((s0, s1))
        part = substring(self.line, a - self.s_start, b - self.s_start)
        off = part.offset_curve(-d, join_style="round")
        coords = [(float(x), float(y)) for x, y in off.coords]
        # Snap the ends to the exact (s, d) points so features join exactly.
        coords[0], coords[-1] = self.xy(a, d), self.xy(b, d)
        return coords if s1 >= s0 else coords[::-1]

    def area(self, s0: float, s1: float, d0: float, d1: float) -> list[tuple[float, float]]:
        mid = LineString(self.band(s0, s1, (d0 + d1) / 2))
        poly = mid.buffer((d1 - d0) / 2, cap_style="flat", join_style="round")
        assert isinstance(poly, Polygon)
        return [(float(x), float(y)) for x, y in poly.exterior.coords]


class Builder:
    def __init__(self, spec: CorridorSpec) -> None:
        self.spec = spec
        self.f = Frame(spec)
        self.mf = MapFrame.at(*spec.gate)
        self.features: list[dict[str, Any]] = []

    def _ll(self, pts: list[tuple[float, float]]) -> list[list[float]]:
        out = []
        for x, y in pts:
            lon, lat = self.mf.to_lonlat(x, y)
            out.append([round(lon, 8), round(lat, 8)])
        return out

    def add(self, fid: str, geom_type: str, pts: list[tuple[float, float]], **props: Any) -> None:
        if geom_type == "Point":
            coords: Any = self._ll(pts)[0]
        elif geom_type == "Polygon":
            ring = self._ll(pts)
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            coords = [ring]
        else:
            coords = self._ll(pts)
        self.features.append(
            {
                "type": "Feature",
                "id": fid,
                "geometry": {"type": geom_type, "coordinates": coords},
                "properties": props,
            }
        )

    def straight(self, s0: float, d0: float, s1: float, d1: float) -> list[tuple[float, float]]:
        return [self.f.xy(s0, d0), self.f.xy(s1, d1)]


def build(spec: CorridorSpec) -> dict[str, Any]:
    b = Builder(spec)
    f = b.f
    t0, t1 = spec.trad
    g0, g1 = spec.guide
    # Traditional lanes: import at d<0 (southbound), export at d>0, 3.5 m apart.
    # The traditional block keeps its east edge at d=10.5 whatever its width.
    n_trad = spec.traditional_per_direction
    c = 10.5 - n_trad * LANE_W
    for i, d in enumerate((LANE_W * (k + 0.5) for k in range(n_trad)), start=1):
        b.add(
            f"E{i}",
            "LineString",
            f.band(t0, t1, c + d),
            type="lane",
            kind="traditional",
            direction="export",
            name=f"Làn xuất khẩu {i}",
            name_en=f"Export lane {i}",
            speed_limit_kmh=TRAD_SPEED,
            width_m=LANE_W,
        )
        b.add(
            f"I{i}",
            "LineString",
            f.band(t1, t0, c - d),
            type="lane",
            kind="traditional",
            direction="import",
            name=f"Làn nhập khẩu {i}",
            name_en=f"Import lane {i}",
            speed_limit_kmh=TRAD_SPEED,
            width_m=LANE_W,
        )
    # Reserved driverless pair, from inside the VN yard to inside the CN yard.
    b.add(
        "E-AUTO",
        "LineString",
        f.band(g0 - 10, g1 + 10, D_E4),
        type="lane",
        kind="driverless",
        direction="export",
        name="Làn xuất khẩu dành riêng xe tự hành",
        name_en="Reserved driverless export lane",
        speed_limit_kmh=GUIDE_SPEED,
        width_m=LANE_W,
    )
    b.add(
        "I-AUTO",
        "LineString",
        f.band(g1 + 10, g0 - 10, D_I4),
        type="lane",
        kind="driverless",
        direction="import",
        name="Làn nhập khẩu dành riêng xe tự hành",
        name_en="Reserved driverless import lane",
        speed_limit_kmh=GUIDE_SPEED,
        width_m=LANE_W,
    )
    trad_zone = dict(type="zone", kind="yard", traffic="traditional")
    b.add(
        "vn-plaza",
        "Polygon",
        f.area(t0 - 40, t0 + 20, c - n_trad * LANE_W - 1.5, 12),
        side="VN",
        name="Bãi kiểm soát xe truyền thống",
        name_en="Traditional truck plaza (VN)",
        **trad_zone,
    )
    b.add(
        "cn-plaza",
        "Polygon",
        f.area(t1 - 20, t1 + 40, c - n_trad * LANE_W - 1.5, 12),
        side="CN",
        name="Bãi xe truyền thống phía Trung Quốc",
        name_en="Traditional truck plaza (CN)",
        **trad_zone,
    )
    _vn_yard(b, g0)
    _cn_yard(b, g1)
    # Checkpoints on the VN side of the reserved pair, then the handoff zone.
    chk = [
        ("vn-customs", "checkpoint", "customs", 120, 160, "Hải quan", "Customs"),
        ("vn-quarantine", "checkpoint", "quarantine", 180, 220, "Kiểm dịch", "Quarantine"),
        ("vn-scan", "scanning", None, 260, 290, "Máy soi container", "Container scanner"),
    ]
    for zid, kind, auth, a, c, vi, en in chk:
        props: dict[str, Any] = dict(type="zone", kind=kind, side="VN", name=vi, name_en=en)
        if auth:
            props["authority"] = auth
        b.add(zid, "Polygon", f.area(g0 + a, g0 + c, *BAND), **props)
    b.add(
        "cn-customs",
        "Polygon",
        f.area(150, 190, *BAND),
        type="zone",
        kind="checkpoint",
        authority="customs",
        side="CN",
        name="Hải quan Trung Quốc",
        name_en="China Customs",
    )
    b.add(
        "handoff",
        "Polygon",
        f.area(-40, 40, *BAND),
        type="zone",
        kind="handoff",
        side="VN",
        name="Vùng bàn giao (km 0)",
        name_en="Handoff zone (km 0)",
    )
    if spec.tunnel:
        b.add(
            "tunnel",
            "Polygon",
            f.area(spec.tunnel[0], spec.tunnel[1], 11.5, 20.5),
            type="zone",
            kind="tunnel",
            side="CN",
            name="Hầm",
            name_en="Tunnel",
        )
    # A turnaround from the export stop line, before km 0, and a road back to the VN yard's
    # return road: a vehicle the other side refused goes back to its yard.
    loop = [(-20, D_E4), (-13, 21), (-8, 27), (-8, 33), (-13, 38), (-20, 40), (-28, 39)]
    loop += [(-35, 35), (-40, 29)]  # it leaves at the stop line itself: where vehicles wait
    back = [f.xy(s, d) for s, d in loop] + _eased(b, -45, 29, -85, D_RETURN)[:-1]
    back += f.band(-85, g0 - 40, D_RETURN)
    b.add(
        "vn-turnaround",
        "LineString",
        back,
        type="connector",
        name="Turnaround to the yard",
        speed_limit_kmh=YARD_SPEED,
        width_m=LANE_W,
    )
    # Stop lines: before the zero line each way, before VN customs each way.
    e_band, i_band = (D_E4 - 1.75, D_E4 + 1.75), (D_I4 - 1.75, D_I4 + 1.75)
    stops = [
        ("SL-E-zero", -20.0, e_band, "zero_line"),
        ("SL-I-zero", 20.0, i_band, "zero_line"),
        ("SL-E-customs", g0 + 118, e_band, "checkpoint"),
        ("SL-I-customs", g0 + 162, i_band, "checkpoint"),
    ]
    for sid, s, (d0, d1), reason in stops:
        b.add(sid, "LineString", b.straight(s, d0, s, d1), type="stop_line", reason=reason)
    m1, m2 = spec.markers
    b.add(
        "zero-line",
        "LineString",
        b.straight(0, -60, 0, 60),
        type="zero_line",
        name="Đường biên giới (km 0)",
        name_en="Boundary zero line (km 0)",
    )
    b.add(f"marker-{m1}", "Point", [f.xy(0, -60)], type="marker", number=m1)
    b.add(f"marker-{m2}", "Point", [f.xy(0, 60)], type="marker", number=m2)
    return {
        "type": "FeatureCollection",
        "smartgate": {
            "format": "smartgate-map/1",
            "corridor": spec.id,
            "name": spec.name,
            "name_en": spec.name_en,
            "markers": list(spec.markers),
            "gate": list(spec.gate),
            "metric_crs": "EPSG:32648",
            "region": [106.3, 21.6, 107.2, 22.4],
            "notes": spec.notes,
        },
        "features": b.features,
    }


# Yard layout (lateral offsets on the VN side; the CN yard is its mirror about the
# reserved pair's centre line, see _mirror). Bays are a vehicle spacing (16.5 m body +
# 8 m gap) apart, so two vehicles leaving neighbouring bays are already spaced on the
# ring; the out-road leaves the ring 7 m beyond the reserved lane and eases back onto
# it, so its corner is 10.5 m from the in-road (a turning vehicle never comes near one
# driving in). Eight loading bays per side: at a crane's ~3 min per visit (unload, then
# load) they serve ~160 visits an hour, the 2030 peak of ~125 with room.
BAY_PITCH = 25.0
D_OUT = D_E4 + 7.0  # where the VN out-road leaves the ring (10.5 m from the in-road)
D_RETURN = 37.5  # the return road, between the out-road's corner and the first bay
_BAYS = [  # lateral offset, spot id, spot kind, zone kind (or None)
    (50.0 + BAY_PITCH * i, spot, kind, zone)
    for i, (spot, kind, zone) in enumerate(
        [(f"L{k}", "loading", None) for k in range(1, 9)]
        + [("X1", "inspection", "inspection"), ("C1", "charging", "charging")]
        + [("P1", "parking", "parking")]
    )
]
D_RING = _BAYS[-1][0] + 20.0  # the far ring road


def _mirror(d: float) -> float:
    """The CN yard's offset for a VN yard offset: mirrored about the reserved pair."""
    return D_E4 + D_I4 - d


def _yard_bays(
    b: Builder, prefix: str, side: str, s_in: float, s_out: float, sign: float, flip: bool
) -> None:
    """Through bays between two ring roads; vehicles drive from s_in to s_out."""
    mid = (s_in + s_out) / 2
    for d, spot, kind, zone in _BAYS:
        dd = sign * d if not flip else _mirror(d)
        b.add(
            f"{prefix}-bay-{spot}",
            "LineString",
            b.straight(s_in, dd, s_out, dd),
            type="connector",
            name=f"Bay {spot}",
            speed_limit_kmh=YARD_SPEED,
            width_m=LANE_W,
        )
        b.add(
            f"{prefix}-spot-{spot}", "Point", [b.f.xy(mid, dd)], type="spot", kind=kind, name=spot
        )
        if zone:
            lo, hi = sorted((s_in, s_out))
            b.add(
                f"{prefix}-{zone}",
                "Polygon",
                b.f.area(lo + 15, hi - 15, dd - 5, dd + 5),
                type="zone",
                kind=zone,
                side=side,
                name=f"{zone} {spot}",
                name_en=zone,
            )


def _vn_yard(b: Builder, g0: float) -> None:
    """VN yard south of the reserved pair: I4 in, ring south/east/north, out to E4."""
    s_lo, s_hi = g0 - 150, g0 - 40
    ds = sorted(d for d, *_ in _BAYS)
    conn = dict(type="connector", speed_limit_kmh=YARD_SPEED, width_m=LANE_W)
    roads = [
        ("vn-yard-in", b.straight(g0 - 10, D_I4, s_lo, D_I4), "Yard in"),
        ("vn-yard-south", b.straight(s_lo, D_I4, s_lo, D_RING), "South ring"),
        ("vn-yard-east", b.straight(s_lo, D_RING, s_hi, D_RING), "East ring"),
        ("vn-yard-north", b.straight(s_hi, D_RING, s_hi, D_OUT), "North ring"),
        ("vn-yard-out", _eased(b, s_hi, D_OUT, g0 - 10, D_E4), "Yard out"),
    ]
    for fid, pts, name in roads:
        b.add(fid, "LineString", pts, name=name, **conn)
    assert D_OUT < D_RETURN < ds[0] and ds[-1] < D_RING
    # Back from the bays' exit side to their entry side without leaving the yard, so a
    # vehicle can go from one spot to another (load after charging, say) on this side.
    b.add(
        "vn-yard-return",
        "LineString",
        b.straight(s_hi, D_RETURN, s_lo, D_RETURN),
        name="Return road",
        **conn,
    )
    _yard_bays(b, "vn", "VN", s_lo, s_hi, 1.0, False)
    b.add(
        "vn-yard",
        "Polygon",
        b.f.area(g0 - 170, g0, BAND[0] - 1, D_RING + 6),
        type="zone",
        kind="yard",
        traffic="driverless",
        side="VN",
        name=b.spec.vn_yard[0],
        name_en=b.spec.vn_yard[1],
    )


def _eased(b: Builder, s0: float, d0: float, s1: float, d1: float) -> list[tuple[float, float]]:
    """A road from (s0, d0) to (s1, d1) whose lateral shift follows a smooth S (cosine),
    so a vehicle changes offset without a kink; a point every 2 m."""
    n = max(2, math.ceil(abs(s1 - s0) / 2.0))
    pts = []
    for i in range(n + 1):
        u = i / n
        w = (1 - math.cos(math.pi * u)) / 2
        pts.append(b.f.xy(s0 + (s1 - s0) * u, d0 + (d1 - d0) * w))
    return pts


def _cn_yard(b: Builder, g1: float) -> None:
    """CN yard: the VN yard mirrored about the reserved pair (E4 in, I4 out), so no
    connector crosses the other direction's."""
    s_lo, s_hi = g1 + 40, g1 + 150
    conn = dict(type="connector", speed_limit_kmh=YARD_SPEED, width_m=LANE_W)
    ring, out = _mirror(D_RING), _mirror(D_OUT)
    b.add("cn-yard-in", "LineString", b.straight(g1 + 10, D_E4, s_hi, D_E4), name="Yard in", **conn)
    b.add(
        "cn-yard-north", "LineString", b.straight(s_hi, D_E4, s_hi, ring), name="North ring", **conn
    )
    b.add(
        "cn-yard-west", "LineString", b.straight(s_hi, ring, s_lo, ring), name="West ring", **conn
    )
    b.add(
        "cn-yard-south", "LineString", b.straight(s_lo, ring, s_lo, out), name="South ring", **conn
    )
    b.add("cn-yard-out", "LineString", _eased(b, s_lo, out, g1 + 10, D_I4), name="Yard out", **conn)
    b.add(
        "cn-yard-return",
        "LineString",
        b.straight(s_lo, _mirror(D_RETURN), s_hi, _mirror(D_RETURN)),
        name="Return road",
        **conn,
    )
    _yard_bays(b, "cn", "CN", s_hi, s_lo, 1.0, True)
    b.add(
        "cn-yard",
        "Polygon",
        b.f.area(g1, g1 + 170, ring - 6, BAND[1] + 1),
        type="zone",
        kind="yard",
        traffic="driverless",
        side="CN",
        name=b.spec.cn_yard[0],
        name_en=b.spec.cn_yard[1],
    )


SPECS = [
    CorridorSpec(
        id="huu-nghi",
        name="Hữu Nghị – Hữu Nghị Quan (mốc 1119-1120)",
        name_en="Huu Nghi – Youyiguan (markers 1119-1120)",
        markers=("1119", "1120"),
        gate=(106.7108, 21.9711),
        legs=[(1150, 20), (600, 45), (1200, 15), (1500, 35)],
        s_start=-900,
        trad=(-700, 202),
        guide=(-500, 3100),
        vn_yard=("Bãi Xuân Cương (xe tự hành)", "Xuan Cuong yard (driverless)"),
        cn_yard=("Cảng thông minh Hữu Nghị Quan", "Youyiguan smart port yard"),
        notes=["Drawn by maps/author.py from public reports; not surveyed."],
    ),
    CorridorSpec(
        id="tan-thanh",
        name="Tân Thanh – Pò Chài (mốc 1088/2-1089)",
        name_en="Tan Thanh – Puzhai (markers 1088/2-1089)",
        markers=("1088/2", "1089"),
        gate=(106.6839, 22.0031),
        legs=[(1400, 345), (700, 10), (700, 350)],
        s_start=-1100,
        trad=(-600, 250),
        guide=(-900, 1500),
        tunnel=(500, 1100),
        vn_yard=("Bãi Bảo Nguyên (xe tự hành)", "Bao Nguyen yard (driverless)"),
        cn_yard=("Cảng thông minh Pò Chài", "Puzhai smart port yard"),
        notes=[
            "Drawn by maps/author.py from public reports; not surveyed.",
            "VN/CN split of the 2.4 km channel assumed 0.9/1.5 km.",
        ],
    ),
]


def main() -> None:
    out_dir = Path(__file__).resolve().parent
    for spec in SPECS:
        path = out_dir / f"{spec.id}.geojson"
        path.write_text(json.dumps(build(spec), ensure_ascii=False, indent=1) + "\n", "utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
