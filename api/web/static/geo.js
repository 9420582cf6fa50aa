// Small geometry helpers with no DOM or Leaflet dependency (unit-tested with node --test).

const EARTH_CIRCUMFERENCE_M = 40075016.686;
const R_EARTH_M = 6371008.8;

/** Ground metres per screen pixel for Web Mercator at `lat` degrees and zoom `zoom` (256-px tiles). */
export function metersPerPixel(lat, zoom) {
  return (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / 2 ** (zoom + 8);
}

/** Line weight in pixels for a feature `widthM` metres wide, never thinner than `minPx`. */
export function widthToPixels(widthM, lat, zoom, minPx = 1, maxPx = 60) {
  if (!(widthM > 0)) return minPx;
  return Math.min(maxPx, Math.max(minPx, widthM / metersPerPixel(lat, zoom)));
}

/** Great-circle distance in metres between two [lon, lat] points. */
export function distanceM(a, b) {
  const toRad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * toRad;
  const dLon = (b[0] - a[0]) * toRad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a[1] * toRad) * Math.cos(b[1] * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * R_EARTH_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Length in metres of a [lon, lat] polyline. */
export function lineLengthM(coords) {
  let total = 0;
  for (let i = 1; i < coords.length; i++) total += distanceM(coords[i - 1], coords[i]);
  return total;
}

/**
 * Split a [lon, lat] polyline at fraction `progress` (0..1) of its length.
 * Returns {done, todo, point}: the travelled part, the remaining part and the split point.
 */
export function splitLineAt(coords, progress) {
  if (!coords || coords.length === 0) return { done: [], todo: [], point: null };
  if (coords.length === 1) return { done: [coords[0]], todo: [coords[0]], point: coords[0] };
  const p = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
  const target = p * lineLengthM(coords);
  let walked = 0;
  for (let i = 1; i < coords.length; i++) {
    const seg = distanceM(coords[i - 1], coords[i]);
    if (walked + seg >= target) {
      const f = seg > 0 ? (target - walked) / seg : 0;
      const a = coords[i - 1];
      const b = coords[i];
      const point = [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
      return {
        done: [...coords.slice(0, i), point],
        todo: [point, ...coords.slice(i)],
        point,
      };
    }
    walked += seg;
  }
  const last = coords[coords.length - 1];
  return { done: coords.slice(), todo: [last], point: last };
}

/** Linear interpolation. */
export function lerp(a, b, f) {
  return a + (b - a) * f;
}

/** Interpolate an angle in degrees along the shorter way round; result in [0, 360). */
export function lerpAngleDeg(a, b, f) {
  const d = ((((b - a) % 360) + 540) % 360) - 180;
  return (((a + d * f) % 360) + 360) % 360;
}

/** Corridor bounds [min_lon, min_lat, max_lon, max_lat] to Leaflet [[south, west], [north, east]]. */
export function bboxToLatLngBounds(b) {
  if (!Array.isArray(b) || b.length !== 4 || b.some((x) => !Number.isFinite(x))) return null;
  return [
    [b[1], b[0]],
    [b[3], b[2]],
  ];
}

/** Mean [lon, lat] of a list of points. */
export function meanPoint(points) {
  if (!points.length) return null;
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p[0];
    y += p[1];
  }
  return [x / points.length, y / points.length];
}

/** Vertices of a GeoJSON geometry as a flat list of [lon, lat]. */
export function geometryPoints(geom) {
  if (!geom) return [];
  switch (geom.type) {
    case 'Point':
      return [geom.coordinates];
    case 'LineString':
    case 'MultiPoint':
      return geom.coordinates;
    case 'Polygon':
    case 'MultiLineString':
      return geom.coordinates.flat();
    case 'MultiPolygon':
      return geom.coordinates.flat(2);
    default:
      return [];
  }
}
