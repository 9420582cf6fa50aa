// Side panel: the vehicle list (#vehicle-list, one [data-vehicle-id] row per vehicle)
// and the KPI counters in the top bar.

import { t } from './i18n.js';
import { goalLabel } from './vehicles.js';
import { displayState } from './theme.js';

const STATUS_ORDER = ['moving', 'holding', 'at_handoff', 'idle', 'offline'];

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

export function formatSpeedKmh(mps) {
  if (!Number.isFinite(mps)) return '–';
  return (Math.abs(mps) * 3.6).toFixed(1);
}

export function formatAge(iso, now = Date.now()) {
  const ts = Date.parse(iso);
  if (!Number.isFinite(ts)) return '–';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  return s < 120 ? t('vehicle.ago_s', { s }) : t('vehicle.ago_m', { m: Math.round(s / 60) });
}

export class VehiclePanel {
  /**
   * @param {HTMLElement} listEl  #vehicle-list
   * @param {{onSelect:(id:string)=>void, onFollow:(on:boolean)=>void, laneName:(id:string)=>string}} opts
   */
  constructor(listEl, { onSelect, onFollow, laneName }) {
    this.list = listEl;
    this.onSelect = onSelect;
    this.onFollow = onFollow;
    this.laneName = laneName;
    this.rows = new Map();
    this.selected = null;
    this.follow = false;
    this.emptyEl = document.getElementById('vehicle-empty');
    this.otherEl = document.getElementById('vehicle-other');
    this.vehicles = [];
    this.others = 0;
    this.loaded = false;

    listEl.addEventListener('click', (ev) => {
      if (ev.target.closest('.follow')) return;
      const row = ev.target.closest('[data-vehicle-id]');
      if (row) this.onSelect(row.dataset.vehicleId);
    });
    listEl.addEventListener('keydown', (ev) => {
      const row = ev.target.closest('[data-vehicle-id]');
      if (!row) return;
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        this.onSelect(row.dataset.vehicleId);
      } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        const next = ev.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
        next?.focus();
      }
    });
  }

  /** Render `vehicles` (already filtered to the current corridor); `others` = count elsewhere. */
  render(vehicles, others = 0) {
    this.loaded = true;
    this.vehicles = [...vehicles].sort((a, b) => String(a.id).localeCompare(String(b.id), 'en', { numeric: true }));
    this.others = others;
    const seen = new Set();
    let prev = null;
    for (const v of this.vehicles) {
      const id = String(v.id);
      seen.add(id);
      let row = this.rows.get(id);
      if (!row) {
        row = this._makeRow(id);
        this.rows.set(id, row);
      }
      this._fill(row, v);
      const want = prev ? prev.nextSibling : this.list.firstChild;
      if (want !== row) this.list.insertBefore(row, want);
      prev = row;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.remove();
        this.rows.delete(id);
      }
    }
    this._footer();
  }

  setSelected(id, follow = this.follow) {
    this.selected = id;
    this.follow = follow;
    for (const [rid, row] of this.rows) {
      const on = rid === id;
      row.classList.toggle('selected', on);
      row.setAttribute('aria-selected', on ? 'true' : 'false');
      row.querySelector('.follow input').checked = on && follow;
    }
    const row = id && this.rows.get(id);
    row?.scrollIntoView({ block: 'nearest' });
  }

  /** Re-fill every row (language change, age ticking). */
  refresh() {
    const byId = new Map(this.vehicles.map((v) => [String(v.id), v]));
    for (const [id, row] of this.rows) if (byId.has(id)) this._fill(row, byId.get(id));
    this._footer();
  }

  _footer() {
    if (this.emptyEl) {
      this.emptyEl.hidden = this.vehicles.length > 0;
      setText(this.emptyEl, this.loaded ? t('panel.empty') : t('panel.loading'));
    }
    if (this.otherEl) {
      this.otherEl.hidden = !this.others;
      setText(this.otherEl, t('panel.other_corridor', { n: this.others }));
    }
  }

  _makeRow(id) {
    const row = el('li', 'veh-row');
    row.dataset.vehicleId = id;
    row.tabIndex = 0;
    row.setAttribute('role', 'option');

    const r1 = el('div', 'r1');
    r1.append(el('span', 'st-dot'), el('span', 'vid', id), el('span', 'st-pill'));
    const spd = el('span', 'spd');
    spd.append(el('b', 'spd-val'), el('span', 'spd-unit'));
    r1.append(spd);

    const r2 = el('div', 'r2');
    r2.append(el('span', 'k k-lane'), el('span', 'lane'));

    const r3 = el('div', 'r3');
    const bar = el('span', 'bar');
    bar.append(el('i'));
    r3.append(el('span', 'goal'), bar, el('span', 'pct'));

    const det = el('div', 'detail');
    det.append(
      el('span', 'k k-heading'), el('span', 'heading'),
      el('span', 'k k-updated'), el('span', 'updated'),
      el('span', 'k k-mission'), el('span', 'mission-id'),
    );
    const follow = el('label', 'follow');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.addEventListener('change', () => this.onFollow(cb.checked));
    follow.append(cb, el('span', 'follow-text'));
    det.append(follow);

    row.append(r1, r2, r3, det);
    return row;
  }

  _fill(row, v) {
    const status = STATUS_ORDER.includes(v.status) ? v.status : 'offline';
    if (row.dataset.status !== status) row.dataset.status = status;
    const st = displayState(v);
    if (row.dataset.state !== st) row.dataset.state = st;
    setText(row.querySelector('.st-pill'), t(`status.${st}`));
    setText(row.querySelector('.spd-val'), status === 'offline' ? '–' : formatSpeedKmh(v.speed_mps));
    setText(row.querySelector('.spd-unit'), ` ${t('unit.kmh')}`);
    setText(row.querySelector('.k-lane'), t('vehicle.lane'));
    setText(row.querySelector('.lane'), v.lane_id ? this.laneName(v.lane_id) : t('vehicle.no_lane'));

    const m = v.mission;
    const r3 = row.querySelector('.r3');
    r3.classList.toggle('none', !m);
    if (m) {
      const pct = Math.round(Math.min(1, Math.max(0, Number(m.progress) || 0)) * 100);
      setText(row.querySelector('.goal'), `→ ${goalLabel(m)}`);
      row.querySelector('.bar i').style.width = `${pct}%`;
      setText(row.querySelector('.pct'), `${pct}%`);
    } else {
      setText(row.querySelector('.goal'), t('vehicle.no_mission'));
      row.querySelector('.bar i').style.width = '0%';
      setText(row.querySelector('.pct'), '');
    }
    setText(row.querySelector('.k-heading'), t('vehicle.heading'));
    setText(row.querySelector('.heading'), Number.isFinite(v.heading_deg) ? `${Math.round(v.heading_deg)}°` : '–');
    setText(row.querySelector('.k-updated'), t('vehicle.updated'));
    setText(row.querySelector('.updated'), formatAge(v.updated_at));
    setText(row.querySelector('.k-mission'), t('vehicle.mission'));
    setText(row.querySelector('.mission-id'), m?.id ?? '–');
    setText(row.querySelector('.follow-text'), t('vehicle.follow'));
  }
}

/** Update the KPI strip counters for the given vehicles. */
export function renderKpis(vehicles) {
  const counts = { moving: 0, holding: 0, at_handoff: 0, idle: 0, offline: 0 };
  for (const v of vehicles) if (v.status in counts) counts[v.status] += 1;
  setText(document.getElementById('kpi-total'), String(vehicles.length));
  setText(document.getElementById('kpi-moving'), String(counts.moving));
  setText(document.getElementById('kpi-holding'), String(counts.holding));
  setText(document.getElementById('kpi-at-handoff'), String(counts.at_handoff));
  setText(document.getElementById('kpi-offline'), String(counts.offline));
  return counts;
}
