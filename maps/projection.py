"""WGS84 <-> metric map frame.

Map files are GeoJSON (RFC 7946, WGS84 lon/lat) so GIS tools open them, but
every distance, speed and headway is computed in metres. The metric frame of a
corridor is UTM zone 48N (EPSG:32648) shifted to a local origin (the corridor's
gate point, rounded to the metre) so coordinates stay small for simulators and
RViz while remaining an exact translation of UTM.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyproj import Transformer

WGS84 = "EPSG:4326"
DEFAULT_METRIC_CRS = "EPSG:32648"


@lru_cache(maxsize=8)
def _transformers(metric_crs: str) -> tuple[Transformer, Transformer]:
    fwd = Transformer.from_crs(WGS84, metric_crs, always_xy=True)
    inv = Transformer.from_crs(metric_crs, WGS84, always_xy=True)
    return fwd, inv


@dataclass(frozen=True)
class MapFrame:
    """A local metric frame: UTM easting/northing minus ``origin`` (metres)."""

    metric_crs: str
    origin_e: float
    origin_n: float

    @classmethod
    def at(cls, lon: float, lat: float, metric_crs: str = DEFAULT_METRIC_CRS) -> MapFrame:
        fwd, _ = _transformers(metric_crs)
        e, n = fwd.transform(lon, lat)
        return cls(metric_crs, float(round(e)), float(round(n)))

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        fwd, _ = _transformers(self.metric_crs)
        e, n = fwd.transform(lon, lat)
        return e - self.origin_e, n - self.origin_n

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        _, inv = _transformers(self.metric_crs)
        lon, lat = inv.transform(x + self.origin_e, y + self.origin_n)
        return float(lon), float(lat)
