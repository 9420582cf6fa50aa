// Every vehicle's planned path (thin dashed line) and the stretch it has reserved now (thick
// band), from GET /api/v1/routes and the live feed's `routes` deltas; plus closed lanes.
// Drawing them for all vehicles lets a controller see at a glance who waits for whom and
// how traffic reroutes when a lane is closed.

import { COLORS } from './theme.js';

const L = globalThis.L;

const ll = (cs) => cs.map((c) => [c[1], c[0]]);

function lineCoords(g) {
  return g?.type === 'LineString' && Array.isArray(g.coordinates) && g.coordinates.length >= 2 ? g.coordinates : null;
}

/** Stable key of a route geometry, to tell a new plan from the same one sent again. */
export function routeKey(route) {
  const cs = lineCoords(route);
  if (!cs) return '';
  const r = (x) => Number(x).toFixed(6);
  return cs.map((c) => `${r(c[0])},${r(c[1])}`).join(';');
}

export class RoutesLayer {
  constructor(map) {
    this.map = map;
    this.group = L.layerGroup().addTo(map);
    this.items = new Map(); // vehicle id -> {data, plan, reserved, key, changes}
    this.corridor = null;
  }

  setCorridor(id) {
    this.corridor = id;
    for (const [vid, it] of this.items) this._draw(vid, it);
  }

  /** Replace all routes (REST poll / snapshot). */
  replaceAll(list) {
    const keep = new Set(list.map((r) => String(r.vehicle_id)));
    for (const id of [...this.items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const r of list) this.upsert(r);
  }

  upsert(r) {
    if (!r || r.vehicle_id == null) return;
    const id = String(r.vehicle_id);
    let it = this.items.get(id);
    if (!it) {
      it = { data: r, plan: null, reserved: null, key: routeKey(r.route), changes: 0 };
      this.items.set(id, it);
    } else {
      const key = routeKey(r.route);
      if (key !== it.key) {
        it.key = key;
        it.changes += 1;
      }
      it.data = r;
    }
    this._draw(id, it);
  }

  remove(id) {
    const it = this.items.get(id);
    if (!it) return;
    it.plan?.remove();
    it.reserved?.remove();
    this.items.delete(id);
  }

  get(id) {
    return this.items.get(id)?.data;
  }

  /** How many times this vehicle's planned path changed since it was first seen (e2e hook). */
  changes(id) {
    return this.items.get(id)?.changes ?? 0;
  }

  _draw(id, it) {
    const r = it.data;
    const visible = this.corridor == null || r.corridor == null || r.corridor === this.corridor;
    const plan = visible ? lineCoords(r.route) : null;
    const reserved = visible ? lineCoords(r.reserved) : null;
    const holding = r.plan_state === 'holding' || r.plan_state === 'broken';
    it.plan = this._line(it.plan, plan, {
      pane: 'route', color: COLORS.plan, weight: 2.5, opacity: 0.75, dashArray: '6 6',
      className: 'plan-path', interactive: false,
    }, id, r.plan_state);
    it.reserved = this._line(it.reserved, reserved, {
      pane: 'route', color: COLORS.reserved, weight: 7, opacity: 0.55, lineCap: 'butt',
      className: 'reserved-path', interactive: false,
    }, id, r.plan_state);
    // A held plan (e.g. its next lane was closed) is drawn in the hold colour, dashed wider.
    it.plan?.setStyle({ color: holding ? COLORS.reservedHold : COLORS.plan, dashArray: holding ? '2 8' : '6 6' });
    it.reserved?.setStyle({ color: holding ? COLORS.reservedHold : COLORS.reserved });
  }

  _line(layer, coords, style, id, planState) {
    if (!coords) {
      layer?.remove();
      return null;
    }
    if (!layer) {
      layer = L.polyline(ll(coords), style);
      // Leaflet creates a new <path> each time a layer is added: tag it every time.
      layer.on('add', () => this._tag(layer));
      layer.addTo(this.group);
    } else {
      layer.setLatLngs(ll(coords));
      if (!this.group.hasLayer(layer)) layer.addTo(this.group);
    }
    layer.sgTag = { vehicleId: id, planState: planState ?? '' };
    this._tag(layer);
    return layer;
  }

  _tag(layer) {
    const el = layer.getElement();
    if (!el || !layer.sgTag) return;
    el.dataset.vehicleId = layer.sgTag.vehicleId;
    el.dataset.planState = layer.sgTag.planState;
  }
}

/** Closed lanes: a red dashed band with crosses over each closed lane of the shown corridor. */
export class ClosedLanesLayer {
  constructor(map) {
    this.map = map;
    this.group = L.layerGroup().addTo(map);
    this.closed = new Map(); // lane id -> lane object
  }

  /** `lanes`: GET /corridors/{id}/lanes; `geojson`: the corridor map (lane geometry by feature id). */
  update(lanes, geojson) {
    this.group.clearLayers();
    this.closed = new Map(lanes.filter((l) => l.closed).map((l) => [String(l.lane_id), l]));
    const byId = new Map((geojson?.features ?? []).filter((f) => f.id != null).map((f) => [String(f.id), f]));
    for (const [id] of this.closed) {
      const cs = lineCoords(byId.get(id)?.geometry);
      if (!cs) continue;
      L.polyline(ll(cs), {
        pane: 'lines', color: '#000', weight: 13, opacity: 0.55, interactive: false, className: 'lane-closed-casing',
      }).addTo(this.group);
      const line = L.polyline(ll(cs), {
        pane: 'lines', color: COLORS.closed, weight: 9, opacity: 0.95, dashArray: '3 9', lineCap: 'butt',
        className: 'lane-closed', interactive: false,
      }).addTo(this.group);
      const el = line.getElement();
      if (el) el.dataset.laneId = id;
    }
  }
}
