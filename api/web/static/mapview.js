// The Leaflet map (no tile layer) and the drawing of one corridor's GeoJSON.
// Leaflet is loaded as a classic script (/vendor/leaflet/leaflet.js) and used as window.L.

import { t, localName, getLang } from './i18n.js';
import { COLORS, SPOT_COLORS, laneColor, zoneKey, zoneStyle } from './theme.js';
import {
  widthToPixels,
  metersPerPixel,
  distanceM,
  lineLengthM,
  geometryPoints,
  meanPoint,
} from './geo.js';

const L = globalThis.L;

/** Zoom bands used by CSS to show or hide labels ([data-zoom-band] on the map container). */
function zoomBand(z) {
  if (z >= 18) return 'near';
  if (z >= 16) return 'mid';
  return 'far';
}

function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Faint screen-tile grid drawn locally (no tile server): gives the empty map a sense of motion and scale. */
const BackgroundGrid = L.GridLayer.extend({
  createTile() {
    const size = this.getTileSize();
    const tile = document.createElement('canvas');
    tile.width = size.x;
    tile.height = size.y;
    const ctx = tile.getContext('2d');
    ctx.lineWidth = 1;
    ctx.strokeStyle = 'rgba(120, 150, 190, 0.035)';
    ctx.beginPath();
    for (let i = 1; i < 4; i++) {
      const q = Math.round((i * size.x) / 4) + 0.5;
      ctx.moveTo(q, 0);
      ctx.lineTo(q, size.y);
      ctx.moveTo(0, q);
      ctx.lineTo(size.x, q);
    }
    ctx.stroke();
    ctx.strokeStyle = 'rgba(120, 150, 190, 0.09)';
    ctx.beginPath();
    ctx.moveTo(0.5, 0);
    ctx.lineTo(0.5, size.y);
    ctx.moveTo(0, 0.5);
    ctx.lineTo(size.x, 0.5);
    ctx.stroke();
    return tile;
  },
});

/** Create the map with our panes, scale bar and zoom-band bookkeeping. */
export function createMap(el) {
  const map = L.map(el, {
    zoomControl: false,
    attributionControl: true,
    minZoom: 12,
    maxZoom: 21,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    wheelPxPerZoomLevel: 90,
    preferCanvas: false,
    center: [21.9711, 106.7108],
    zoom: 16,
  });
  map.attributionControl.setPrefix('Leaflet');
  new BackgroundGrid({ pane: 'tilePane', updateWhenZooming: false, keepBuffer: 1 }).addTo(map);
  L.control.zoom({ position: 'topleft' }).addTo(map);
  L.control.scale({ position: 'bottomleft', imperial: false, maxWidth: 160 }).addTo(map);

  const panes = [
    ['zones', 380],
    ['lanes', 400],
    ['lines', 420],
    ['route', 440],
    ['labels', 560],
  ];
  for (const [name, z] of panes) {
    const p = map.createPane(name);
    p.style.zIndex = String(z);
  }
  map.getPane('labels').style.pointerEvents = 'none';

  const setBand = () => {
    el.dataset.zoomBand = zoomBand(map.getZoom());
  };
  map.on('zoomend', setBand);
  setBand();
  return map;
}

/** Screen-space bearing (deg, clockwise from up) of the segment a->b in Web Mercator. */
function mercatorBearing(a, b) {
  const y = (lat) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  const dx = ((b[0] - a[0]) * Math.PI) / 180;
  const dy = y(b[1]) - y(a[1]);
  return (Math.atan2(dx, dy) * 180) / Math.PI;
}

/** Points every `stepM` metres along a [lon, lat] line with the local bearing. */
function pointsAlong(coords, stepM, offsetM) {
  const out = [];
  let next = offsetM;
  let walked = 0;
  for (let i = 1; i < coords.length; i++) {
    const a = coords[i - 1];
    const b = coords[i];
    const seg = distanceM(a, b);
    while (seg > 0 && next <= walked + seg) {
      const f = (next - walked) / seg;
      out.push({ at: [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f], bearing: mercatorBearing(a, b) });
      next += stepM;
    }
    walked += seg;
  }
  return out;
}

const ll = (c) => [c[1], c[0]];
const lls = (cs) => cs.map(ll);

/**
 * One corridor drawn on the map. Create with the FeatureCollection, call addTo(map),
 * remove() when switching corridor, relabel() when the language changes.
 */
export class CorridorLayer {
  constructor(map, geojson) {
    this.map = map;
    this.geojson = geojson;
    this.features = Array.isArray(geojson?.features) ? geojson.features : [];
    this.byId = new Map(this.features.filter((f) => f.id != null).map((f) => [String(f.id), f]));
    this.group = L.layerGroup();
    this.labels = L.layerGroup();
    this.scaled = []; // {layer, widthM, minPx, extraPx}
    this.bounds = null;
    this._onZoom = () => this._rescale();
    this._build();
  }

  addTo(map) {
    this.group.addTo(map);
    this.labels.addTo(map);
    map.on('zoomend', this._onZoom);
    this._rescale();
    return this;
  }

  remove() {
    this.map.off('zoomend', this._onZoom);
    this.group.remove();
    this.labels.remove();
  }

  /** Feature by id (e.g. the lane a vehicle is on). */
  feature(id) {
    return id == null ? undefined : this.byId.get(String(id));
  }

  /** Localized display name of a lane/connector id, or the raw id. */
  laneName(id) {
    const f = this.feature(id);
    if (!f) return id ?? '';
    return localName(f.properties) || String(id);
  }

  relabel() {
    this.labels.clearLayers();
    this._buildLabels();
  }

  // ---------------------------------------------------------------- drawing

  _build() {
    const by = (type) => this.features.filter((f) => f.properties?.type === type && f.geometry);
    const pts = [];

    for (const f of by('zone')) this._zone(f);
    for (const f of by('lane').filter((f) => f.properties.kind !== 'driverless')) this._lane(f);
    for (const f of by('connector')) this._connector(f);
    for (const f of by('lane').filter((f) => f.properties.kind === 'driverless')) this._lane(f);
    for (const f of by('stop_line')) this._stopLine(f);
    for (const f of by('zero_line')) this._zeroLine(f);
    for (const f of by('spot')) this._spot(f);
    for (const f of this.features) pts.push(...geometryPoints(f.geometry));

    if (pts.length) {
      const lons = pts.map((p) => p[0]);
      const lats = pts.map((p) => p[1]);
      this.bounds = L.latLngBounds(
        [Math.min(...lats), Math.min(...lons)],
        [Math.max(...lats), Math.max(...lons)],
      );
    }
    this._buildLabels();
  }

  _tooltip(layer, fn) {
    layer.bindTooltip(() => fn(), { sticky: true, className: 'sg-tooltip', direction: 'top', offset: [0, -6] });
  }

  _zone(f) {
    const p = f.properties;
    const layer = L.geoJSON(f, { pane: 'zones', style: () => zoneStyle(p) });
    layer.eachLayer((l) => {
      l.options.className = `zone zone-${p.kind}`;
    });
    this._tooltip(layer, () => {
      const key = zoneKey(p);
      const side = p.side ? ` · ${p.side}` : '';
      return `<b>${escapeHtml(localName(p) || t(`zone.${key}`))}</b><br><span class="tt-sub">${escapeHtml(t(`zone.${key}`))}${side}</span>`;
    });
    layer.addTo(this.group);
  }

  _laneTooltip(p, id) {
    const kind = p.kind === 'driverless' ? t('lane.kind.driverless') : t('lane.kind.traditional');
    const dir = p.direction ? ` · ${t(`lane.direction.${p.direction}`)}` : '';
    const rows = [];
    if (p.speed_limit_kmh != null) rows.push(`${t('lane.speed_limit')}: ${p.speed_limit_kmh} ${t('unit.kmh')}`);
    if (p.width_m != null) rows.push(`${t('lane.width')}: ${p.width_m} ${t('unit.m')}`);
    return (
      `<b>${escapeHtml(localName(p) || id)}</b> <span class="tt-id">${escapeHtml(id ?? '')}</span>` +
      `<br><span class="tt-sub">${escapeHtml(kind + dir)}</span>` +
      (rows.length ? `<br>${escapeHtml(rows.join(' · '))}` : '')
    );
  }

  /**
   * A drivable line drawn as a band as wide as the real lane (never thinner than minPx);
   * once the band is wide on screen it turns translucent and a thin centre line appears.
   */
  _band(coords, { widthM, minPx, color, opacity, wideOpacity, center, className, offset, lineCap = 'round' }) {
    const band = L.polyline(coords, {
      pane: 'lanes', color, weight: minPx, opacity, lineCap, lineJoin: 'round', className,
    }).addTo(this.group);
    let mid = null;
    if (center) {
      mid = L.polyline(coords, {
        pane: 'lanes', color: center.color, weight: center.weight, opacity: 0,
        dashArray: center.dash ?? null, interactive: false, lineCap: 'butt',
      }).addTo(this.group);
    }
    this.scaled.push({ layer: band, center: mid, centerOpacity: center?.opacity ?? 0, widthM, minPx, extraPx: 0,
      opacity, wideOpacity, base: offset ? coords : null });
    return band;
  }

  _lane(f) {
    const p = f.properties;
    const coords = lls(f.geometry.coordinates);
    const color = laneColor(p);
    const widthM = Number(p.width_m) || 3.5;
    if (p.kind === 'driverless') {
      const glow = L.polyline(coords, {
        pane: 'lanes', color, weight: 10, opacity: 0.16, interactive: false, lineCap: 'round',
      });
      this.scaled.push({ layer: glow, widthM, minPx: 10, extraPx: 8, base: coords, opacity: 0.16, wideOpacity: 0.12 });
      glow.addTo(this.group);
      const line = this._band(coords, {
        widthM, minPx: 3.5, color, opacity: 0.95, wideOpacity: 0.42, offset: true,
        center: { color, weight: 2, opacity: 1 },
        className: `lane lane-driverless lane-${p.direction}`,
      });
      this._tooltip(line, () => this._laneTooltip(p, f.id));
      this._arrows(f.geometry.coordinates, color);
    } else {
      const line = this._band(coords, {
        widthM, minPx: 1.5, color, opacity: 0.9, wideOpacity: 0.55, lineCap: 'butt',
        center: { color: '#9aa5b4', weight: 1, opacity: 0.55, dash: '6 9' },
        className: 'lane lane-traditional',
      });
      this._tooltip(line, () => this._laneTooltip(p, f.id));
    }
  }

  /** Direction chevrons along a reserved lane (shown from mid zoom, see CSS). */
  _arrows(coords, color) {
    const len = lineLengthM(coords);
    const step = len > 1500 ? 180 : 90;
    for (const { at, bearing } of pointsAlong(coords, step, step / 2)) {
      const icon = L.divIcon({
        className: 'lane-arrow',
        html: `<span style="transform:rotate(${bearing.toFixed(1)}deg);color:${color}">&#x25B2;</span>`,
        iconSize: [12, 12],
        iconAnchor: [6, 6],
      });
      L.marker(ll(at), { icon, pane: 'lines', interactive: false, keyboard: false }).addTo(this.group);
    }
  }

  _connector(f) {
    const p = f.properties;
    const line = this._band(lls(f.geometry.coordinates), {
      widthM: Number(p.width_m) || 3.5, minPx: 2, color: COLORS.connector, opacity: 0.85, wideOpacity: 0.22,
      center: { color: COLORS.connector, weight: 1.5, opacity: 0.9 },
      className: 'connector',
    });
    this._tooltip(line, () => {
      const speed = p.speed_limit_kmh != null ? `<br>${t('lane.speed_limit')}: ${p.speed_limit_kmh} ${t('unit.kmh')}` : '';
      return `<b>${escapeHtml(localName(p) || f.id)}</b> <span class="tt-id">${escapeHtml(f.id ?? '')}</span><br><span class="tt-sub">${escapeHtml(t('connector.label'))}</span>${speed}`;
    });
  }

  _stopLine(f) {
    const p = f.properties;
    const line = L.polyline(lls(f.geometry.coordinates), {
      pane: 'lines', color: COLORS.stopLine, weight: 3, opacity: 0.95, lineCap: 'butt',
      className: `stop-line stop-${p.reason ?? 'other'}`,
    });
    this.scaled.push({ layer: line, widthM: 0.6, minPx: 3, extraPx: 0 });
    this._tooltip(line, () => {
      const key = ['zero_line', 'checkpoint', 'yard_exit'].includes(p.reason) ? p.reason : 'other';
      return `<b>${escapeHtml(t(`stop.${key}`))}</b> <span class="tt-id">${escapeHtml(f.id ?? '')}</span>`;
    });
    line.addTo(this.group);
  }

  _zeroLine(f) {
    const p = f.properties;
    const coords = lls(f.geometry.coordinates);
    L.polyline(coords, {
      pane: 'lines', color: COLORS.zeroLine, weight: 9, opacity: 0.2, interactive: false,
    }).addTo(this.group);
    const line = L.polyline(coords, {
      pane: 'lines', color: COLORS.zeroLine, weight: 3.5, opacity: 1, dashArray: '10 7',
      lineCap: 'butt', className: 'zero-line',
    });
    this._tooltip(line, () => `<b>${escapeHtml(localName(p) || t('legend.zero_line'))}</b>`);
    line.addTo(this.group);
    this.zeroLine = f;
  }

  _spot(f) {
    const p = f.properties;
    const color = SPOT_COLORS[p.kind] ?? '#e2e8f0';
    const m = L.circleMarker(ll(f.geometry.coordinates), {
      pane: 'lines', radius: 4, color: '#0b1220', weight: 1.5, fillColor: color, fillOpacity: 1,
      className: `spot spot-${p.kind}`,
    });
    this._tooltip(m, () => `<b>${escapeHtml(localName(p) || f.id)}</b><br><span class="tt-sub">${escapeHtml(t(`spot.${p.kind}`))}</span>`);
    m.addTo(this.group);
  }

  // ---------------------------------------------------------------- labels

  _label(latlng, html, className, size = [0, 0]) {
    const icon = L.divIcon({ className: `map-label ${className}`, html, iconSize: size, iconAnchor: [0, 0] });
    return L.marker(latlng, { icon, pane: 'labels', interactive: false, keyboard: false }).addTo(this.labels);
  }

  _buildLabels() {
    const lang = getLang();
    const zl = this.zeroLine?.geometry.coordinates;
    const zmid = zl ? meanPoint([zl[0], zl[zl.length - 1]]) : null;
    for (const f of this.features) {
      const p = f.properties ?? {};
      if (!f.geometry) continue;
      if (p.type === 'marker') {
        const n = escapeHtml(p.number ?? f.id);
        // Put the number on the outer side of the marker, away from the other marker.
        const c = f.geometry.coordinates;
        const west = zmid ? c[0] < zmid[0] : false;
        this._label(ll(c),
          `<div class="border-marker${west ? ' west' : ''}" data-marker="${n}" title="${escapeHtml(t('marker.label', { n: p.number }))}"><i></i><span>${n}</span></div>`,
          'label-marker');
      } else if (p.type === 'zone') {
        const c = meanPoint(f.geometry.coordinates[0].slice(0, -1));
        const name = localName(p, lang) || t(`zone.${zoneKey(p)}`);
        // Level 1: driverless yards (always); 2: other big zones (mid zoom); 3: small zones (near).
        let level = 3;
        if (p.kind === 'yard' && p.traffic !== 'traditional') level = 1;
        else if (['yard', 'handoff', 'tunnel', 'checkpoint'].includes(p.kind)) level = 2;
        this._label(ll(c), `<span>${escapeHtml(name)}</span>`, `label-zone label-zone-${p.kind} label-l${level}`);
      } else if (p.type === 'spot') {
        this._label(ll(f.geometry.coordinates), `<span>${escapeHtml(p.name ?? f.id)}</span>`, 'label-spot');
      }
    }
    this._countryLabels();
  }

  /**
   * "VIỆT NAM" / "TRUNG QUỐC" written along the zero line, one on each side, next to the
   * first border marker. Offsets are in screen pixels so they hold at every zoom.
   */
  _countryLabels() {
    const z = this.zeroLine;
    if (!z) return;
    const zc = z.geometry.coordinates;
    const a = zc[0];
    const b = zc[zc.length - 1];
    const mid = meanPoint([a, b]);
    const kx = Math.cos((mid[1] * Math.PI) / 180);
    const ax = [(b[0] - a[0]) * kx, b[1] - a[1]];
    const alen = Math.hypot(ax[0], ax[1]) || 1;
    const u = [ax[0] / alen, ax[1] / alen]; // along the line (east, north)
    const nrm = [-u[1], u[0]];
    const sides = { VN: [], CN: [] };
    for (const f of this.features) {
      const p = f.properties ?? {};
      if (p.type === 'zone' && (p.side === 'VN' || p.side === 'CN') && p.kind !== 'handoff') {
        sides[p.side].push(meanPoint(geometryPoints(f.geometry)));
      }
    }
    let angle = mercatorBearing(a, b) - 90; // text runs along the line
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    for (const side of ['VN', 'CN']) {
      const c = meanPoint(sides[side]);
      let sign = side === 'VN' ? -1 : 1;
      if (c) {
        const d = [(c[0] - mid[0]) * kx, c[1] - mid[1]];
        sign = d[0] * nrm[0] + d[1] * nrm[1] >= 0 ? 1 : -1;
      }
      // screen vectors (x right, y down) of "outward along the line from a" and "into this side"
      const out = [-u[0], u[1]];
      const into = [nrm[0] * sign, -nrm[1] * sign];
      const text = t(`side.${side}`);
      const along = 70 + text.length * 6; // clear of the marker label, whatever the text length
      const dx = out[0] * along + into[0] * 26;
      const dy = out[1] * along + into[1] * 26;
      this._label(ll(a),
        `<span style="transform:translate(-50%,-50%) translate(${dx.toFixed(1)}px,${dy.toFixed(1)}px) rotate(${angle.toFixed(1)}deg)">${escapeHtml(text)}</span>`,
        `label-country label-country-${side}`);
    }
  }

  _rescale() {
    const z = this.map.getZoom();
    const lat = this.map.getCenter().lat;
    const mpp = metersPerPixel(lat, z);
    for (const s of this.scaled) {
      const w = widthToPixels(s.widthM, lat, z, s.minPx - s.extraPx) + s.extraPx;
      const wide = w - s.extraPx >= WIDE_PX;
      const style = { weight: w };
      if (s.opacity != null) style.opacity = wide ? s.wideOpacity : s.opacity;
      s.layer.setStyle(style);
      s.center?.setStyle({ opacity: wide ? s.centerOpacity : 0 });
      if (s.base) {
        // Reserved lanes of opposite directions run side by side: when zoomed out they would
        // draw on top of each other, so push each to the right of its travel direction by a
        // few pixels (fading out once the real geometry is wide enough to separate them).
        const px = Math.max(0, LANE_SPLIT_PX - (s.widthM / mpp) / 2);
        const ll2 = px > 0.2 ? offsetLatLngs(this.map, s.base, px) : s.base;
        s.layer.setLatLngs(ll2);
        s.center?.setLatLngs(ll2);
      }
    }
  }
}

const WIDE_PX = 8;
const LANE_SPLIT_PX = 3;

/** Offset a [lat, lng] polyline by `px` screen pixels to the right of its direction. */
export function offsetLatLngs(map, latlngs, px) {
  const pts = latlngs.map((p) => map.project(p, map.getZoom()));
  const n = pts.length;
  if (n < 2) return latlngs;
  const normals = [];
  for (let i = 1; i < n; i++) {
    const dx = pts[i].x - pts[i - 1].x;
    const dy = pts[i].y - pts[i - 1].y;
    const len = Math.hypot(dx, dy) || 1;
    normals.push([-dy / len, dx / len]); // right-hand normal in screen space (y down)
  }
  const out = [];
  for (let i = 0; i < n; i++) {
    const a = normals[Math.max(0, i - 1)];
    const b = normals[Math.min(normals.length - 1, i)];
    let mx = a[0] + b[0];
    let my = a[1] + b[1];
    const ml = Math.hypot(mx, my);
    if (ml < 1e-6) {
      mx = b[0];
      my = b[1];
    } else {
      mx /= ml;
      my /= ml;
    }
    const cos = Math.max(0.5, mx * b[0] + my * b[1]); // limit miter length on sharp turns
    out.push(map.unproject(L.point(pts[i].x + (mx * px) / cos, pts[i].y + (my * px) / cos), map.getZoom()));
  }
  return out;
}
