// Vehicle markers on the map: coloured by status, rotated by heading, moved smoothly
// between updates with requestAnimationFrame; plus the selected vehicle's route.

import { t, getLang } from './i18n.js';
import { COLORS, displayState } from './theme.js';
import { lerp, lerpAngleDeg, splitLineAt, distanceM } from './geo.js';

const L = globalThis.L;

const MIN_ANIM_MS = 100;
const MAX_ANIM_MS = 1000;
const TELEPORT_M = 300; // farther than this between two updates: jump, don't glide

// Arrow pointing up (north); rotated by heading_deg (compass: 0 = north, clockwise).
const ARROW_SVG =
  '<svg viewBox="-16 -16 32 32" width="30" height="30" aria-hidden="true">' +
  '<circle class="veh-halo" r="15"/>' +
  '<path class="veh-shape" d="M0,-12 L9,9 L0,4.5 L-9,9 Z"/>' +
  '</svg>';

function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function validPos(v) {
  return Number.isFinite(v?.lat) && Number.isFinite(v?.lon);
}

export class VehicleLayer {
  /**
   * @param {L.Map} map
   * @param {{onClick?: (id: string) => void}} opts
   */
  constructor(map, { onClick } = {}) {
    this.map = map;
    this.onClick = onClick;
    this.items = new Map(); // id -> {data, marker, from, to, cur, t0, dur, lastAt}
    this.corridor = null;
    this.selected = null;
    this.route = new RouteLayer(map);
    this._raf = 0;
    this._tick = (now) => this._animate(now);
  }

  /** Insert or update a vehicle from an API object. */
  upsert(v) {
    if (!v || v.id == null) return;
    const id = String(v.id);
    const now = performance.now();
    let it = this.items.get(id);
    const hdg = Number.isFinite(v.heading_deg) ? v.heading_deg : it?.cur.hdg ?? 0;
    const target = validPos(v) ? { lat: v.lat, lon: v.lon, hdg } : it?.to ?? null;

    if (!it) {
      it = { data: v, marker: null, from: target, to: target, cur: target && { ...target }, t0: now, dur: 0, lastAt: now };
      this.items.set(id, it);
    } else {
      const gap = now - it.lastAt;
      it.data = v;
      it.lastAt = now;
      if (target && it.cur) {
        const far = distanceM([it.cur.lon, it.cur.lat], [target.lon, target.lat]) > TELEPORT_M;
        it.from = far ? { ...target } : { ...it.cur };
        it.to = target;
        it.t0 = now;
        it.dur = far ? 0 : Math.min(MAX_ANIM_MS, Math.max(MIN_ANIM_MS, gap));
      } else if (target) {
        it.from = it.to = target;
        it.cur = { ...target };
        it.dur = 0;
      }
    }
    this._syncMarker(id, it);
    if (id === this.selected) this.route.update(v);
    this._kick();
  }

  /** Replace all vehicles (WebSocket snapshot / REST poll). */
  replaceAll(list) {
    const keep = new Set(list.map((v) => String(v.id)));
    for (const id of [...this.items.keys()]) if (!keep.has(id)) this.remove(id);
    for (const v of list) this.upsert(v);
  }

  remove(id) {
    const it = this.items.get(id);
    if (!it) return;
    it.marker?.remove();
    this.items.delete(id);
    if (this.selected === id) this.select(null);
  }

  get(id) {
    return this.items.get(id)?.data;
  }

  /** Current (animated) position of a vehicle as [lat, lon]. */
  position(id) {
    const c = this.items.get(id)?.cur;
    return c ? [c.lat, c.lon] : null;
  }

  all() {
    return [...this.items.values()].map((it) => it.data);
  }

  setCorridor(corridorId) {
    this.corridor = corridorId;
    for (const [id, it] of this.items) this._syncMarker(id, it);
    const sel = this.selected && this.items.get(this.selected);
    if (sel && sel.data.corridor !== corridorId) this.select(null);
  }

  select(id) {
    const prev = this.selected;
    this.selected = id && this.items.has(id) ? id : null;
    for (const x of [prev, this.selected]) {
      const it = x && this.items.get(x);
      if (it) this._syncMarker(x, it);
    }
    this.route.update(this.selected ? this.items.get(this.selected).data : null);
  }

  /** Dim all vehicles while the live feed is down. */
  setStale(stale) {
    this.map.getContainer().classList.toggle('feed-stale', !!stale);
  }

  relabel() {
    for (const [id, it] of this.items) if (it.marker) this._decorate(id, it);
    this.route.relabel();
  }

  // ------------------------------------------------------------------ internals

  _visible(it) {
    return it.cur && (this.corridor == null || it.data.corridor === this.corridor);
  }

  _syncMarker(id, it) {
    if (!this._visible(it)) {
      if (it.marker) it.marker.remove();
      return;
    }
    if (!it.marker) {
      const icon = L.divIcon({
        className: 'veh-marker',
        html: `<div class="veh-body">${ARROW_SVG}</div><div class="veh-label">${escapeHtml(id)}</div>`,
        iconSize: [30, 30],
        iconAnchor: [15, 15],
      });
      it.marker = L.marker([it.cur.lat, it.cur.lon], { icon, keyboard: true, riseOnHover: true });
      it.marker.on('click', () => this.onClick?.(id));
      it.marker.on('add', () => this._decorate(id, it));
    }
    if (!this.map.hasLayer(it.marker)) it.marker.addTo(this.map);
    this._decorate(id, it);
  }

  /** Stable test hooks and state on the marker element. */
  _decorate(id, it) {
    const el = it.marker?.getElement();
    if (!el) return;
    const status = it.data.status ?? 'offline';
    el.dataset.vehicleId = id;
    el.dataset.status = status;
    const st = displayState(it.data);
    el.dataset.state = st;
    el.classList.toggle('selected', id === this.selected);
    el.title = `${id} · ${t(`status.${st}`)}`;
    el.setAttribute('aria-label', el.title);
    it.marker.setZIndexOffset(id === this.selected ? 1000 : status === 'offline' ? -100 : 0);
    this._place(it);
  }

  _place(it) {
    if (!it.marker || !it.cur) return;
    it.marker.setLatLng([it.cur.lat, it.cur.lon]);
    const body = it.marker.getElement()?.firstElementChild;
    if (body) body.style.transform = `rotate(${it.cur.hdg.toFixed(1)}deg)`;
  }

  _kick() {
    if (!this._raf) this._raf = requestAnimationFrame(this._tick);
  }

  _animate(now) {
    this._raf = 0;
    let busy = false;
    for (const it of this.items.values()) {
      if (!it.to || !it.from) continue;
      const f = it.dur > 0 ? Math.min(1, (now - it.t0) / it.dur) : 1;
      it.cur = {
        lat: lerp(it.from.lat, it.to.lat, f),
        lon: lerp(it.from.lon, it.to.lon, f),
        hdg: lerpAngleDeg(it.from.hdg, it.to.hdg, f),
      };
      if (f < 1) busy = true;
      else it.from = it.to;
      if (it.marker && this.map.hasLayer(it.marker)) this._place(it);
    }
    if (busy) this._kick();
  }
}

/** The selected vehicle's planned route: travelled part grey, remaining part bright, goal flag. */
class RouteLayer {
  constructor(map) {
    this.map = map;
    this.group = L.layerGroup().addTo(map);
    this.todo = null;
    this.done = null;
    this.casing = null;
    this.goal = null;
    this.vehicle = null;
  }

  update(v) {
    this.vehicle = v;
    const coords = v?.mission?.route?.type === 'LineString' ? v.mission.route.coordinates : null;
    if (!coords || coords.length < 2) {
      this.group.clearLayers();
      this.todo = this.done = this.casing = this.goal = null;
      return;
    }
    const { done, todo } = splitLineAt(coords, v.mission.progress ?? 0);
    const ll = (cs) => cs.map((c) => [c[1], c[0]]);
    if (!this.todo) {
      this.casing = L.polyline(ll(coords), {
        pane: 'route', color: '#000', weight: 8, opacity: 0.45, interactive: false,
      }).addTo(this.group);
      this.done = L.polyline(ll(done), {
        pane: 'route', color: COLORS.routeDone, weight: 3, opacity: 0.45, interactive: false,
        className: 'route-done',
      }).addTo(this.group);
      this.todo = L.polyline(ll(todo), {
        pane: 'route', color: COLORS.route, weight: 4, opacity: 0.95, dashArray: '8 6',
        className: 'route-todo', interactive: false,
      }).addTo(this.group);
      this.goal = L.marker(ll([coords[coords.length - 1]])[0], {
        pane: 'route',
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: 'route-goal', html: '<i></i><span></span>', iconSize: [0, 0] }),
      }).addTo(this.group);
    } else {
      this.casing.setLatLngs(ll(coords));
      this.done.setLatLngs(ll(done));
      this.todo.setLatLngs(ll(todo));
      this.goal.setLatLng(ll([coords[coords.length - 1]])[0]);
    }
    this.relabel();
  }

  relabel() {
    const span = this.goal?.getElement()?.querySelector('span');
    if (span) span.textContent = goalLabel(this.vehicle?.mission) || t('vehicle.goal');
  }
}

/** Goal label in the UI language if the server sent one (goal_label_vi / goal_label_en). */
export function goalLabel(mission, lang = undefined) {
  if (!mission) return '';
  const l = lang ?? getLang();
  if (l === 'vi' && mission.goal_label_vi) return mission.goal_label_vi;
  if (l === 'en' && mission.goal_label_en) return mission.goal_label_en;
  return mission.goal_label || mission.goal || '';
}
