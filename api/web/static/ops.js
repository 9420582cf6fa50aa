// Operations panels: selected-vehicle details with controls, consignment queue, alarms,
// lanes, handoff link, audit log, and the server KPIs in the top bar.
// Control buttons are only rendered for controller/admin (the server refuses viewers anyway).

import { t, getLang, zh } from './i18n.js';
import { api, roleAtLeast } from './api.js';
import { ask, toast } from './dialog.js';
import { displayState } from './theme.js';
import { formatSpeedKmh } from './panel.js';

const $ = (id) => document.getElementById(id);

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** hh:mm:ss (Vietnam time) of an ISO timestamp or epoch seconds; '–' when absent. */
export function fmtTime(at) {
  if (at == null || at === '') return '–';
  const ms = typeof at === 'number' ? at * 1000 : Date.parse(at);
  if (!Number.isFinite(ms)) return String(at);
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString().slice(11, 19);
  }
}

/** "4 min 05 s" style duration for KPIs. */
export function fmtDuration(s) {
  if (!Number.isFinite(s)) return '–';
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return m ? `${m}:${String(r).padStart(2, '0')}` : `${r} s`;
}

/** Alarm message in the UI language. */
export function alarmMessage(a, lang = getLang()) {
  return (lang === 'vi' ? a.message_vi || a.message_en : a.message_en || a.message_vi) || a.kind || '';
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };

/** Active first, then by severity, newest first. */
export function sortAlarms(list) {
  return [...list].sort(
    (a, b) =>
      (a.cleared_at ? 1 : 0) - (b.cleared_at ? 1 : 0) ||
      (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) ||
      String(b.raised_at).localeCompare(String(a.raised_at)),
  );
}

/** Replace an element's HTML only when it changed (keeps focus, hover and clicks in progress). */
function setHtml(el, html) {
  if (el._html === html) return;
  el._html = html;
  el.innerHTML = html;
}

const MAX_ALARMS_SHOWN = 200;

/**
 * Render `items` into `root` as one child <div> per key, in order, rewriting a child only when
 * its HTML changed and moving it only when out of place; `note` when the list is empty.
 */
function keyedList(root, items, key, html, decorate, note) {
  root._items ??= new Map();
  const old = root._items;
  const next = new Map();
  if (!items.length) {
    old.clear();
    setHtml(root, `<p class="panel-note">${escapeHtml(note)}</p>`);
    return;
  }
  if (!old.size) {
    root.innerHTML = '';
    root._html = null;
  }
  let prev = null;
  for (const it of items) {
    const k = key(it);
    const el = old.get(k) ?? document.createElement('div');
    decorate(el, it);
    setHtml(el, html(it));
    const want = prev ? prev.nextSibling : root.firstChild;
    if (want !== el) root.insertBefore(el, want);
    next.set(k, el);
    prev = el;
  }
  const keep = new Set(next.values());
  for (const n of [...root.childNodes]) if (!keep.has(n)) n.remove();
  root._items = next;
}

function btn(label, action, cls = '', attrs = '') {
  return `<button type="button" class="btn btn-sm ${cls}" data-action="${action}" ${attrs}>${escapeHtml(label)}</button>`;
}

export class Ops {
  /**
   * @param {{user: () => ({username: string, role: string}|null), corridor: () => string|null,
   *          laneName: (id: string) => string, vehicle: (id: string) => object|undefined,
   *          routes: {get: (id: string) => object|undefined},
   *          onLanes: (lanes: object[]) => void, onRoutes: (routes: object[]) => void}} ctx
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.alarms = new Map();
    this.showCleared = false;
    this.link = [];
    this.handoffs = [];
    this.kpis = null;
    this.consignments = [];
    this.lanes = [];
    this.audit = null;
    this.tab = 'vehicles';
    this.selected = null;
    this.timers = [];
    this._wire();
  }

  can(action = 'controller') {
    return roleAtLeast(this.ctx.user()?.role, action);
  }

  // ---------------------------------------------------------------- wiring

  _wire() {
    $('tabs').addEventListener('click', (ev) => {
      const b = ev.target.closest('[data-tab]');
      if (b) this.showTab(b.dataset.tab);
    });
    $('alarm-show-all').addEventListener('change', (ev) => {
      this.showCleared = ev.target.checked;
      this.refreshAlarms();
    });
    $('vehicle-detail').addEventListener('click', (ev) => this._vehicleAction(ev));
    $('consignment-list').addEventListener('click', (ev) => this._consignmentAction(ev));
    $('alarm-list').addEventListener('click', (ev) => this._alarmAction(ev));
    $('lane-list').addEventListener('click', (ev) => this._laneAction(ev));
  }

  showTab(tab) {
    const b = document.querySelector(`#tabs [data-tab="${tab}"]`);
    if (!b || b.hidden) tab = 'vehicles';
    this.tab = tab;
    for (const x of document.querySelectorAll('#tabs [data-tab]')) {
      x.classList.toggle('active', x.dataset.tab === tab);
      x.setAttribute('aria-selected', x.dataset.tab === tab ? 'true' : 'false');
    }
    for (const p of document.querySelectorAll('.tab-pane')) p.hidden = p.dataset.pane !== tab;
    this.refreshTab();
  }

  /** Tabs needing a role are hidden below it. */
  applyRole() {
    const role = this.ctx.user()?.role;
    for (const b of document.querySelectorAll('#tabs [data-min-role]')) b.hidden = !roleAtLeast(role, b.dataset.minRole);
    document.body.dataset.role = role ?? '';
    if (document.querySelector(`#tabs [data-tab="${this.tab}"]`)?.hidden) this.showTab('vehicles');
    this.relabel();
  }

  /** Poll what the live feed does not push (and everything, as a safety net, at a slow pace). */
  start() {
    this.stop();
    const every = (ms, fn) => {
      fn();
      this.timers.push(setInterval(fn, ms));
    };
    every(3000, () => this.refreshRoutes());
    every(5000, () => this.refreshKpis());
    every(5000, () => this.refreshAlarms());
    every(5000, () => this.refreshLink());
    every(5000, () => this.refreshLanes());
    every(5000, () => this.refreshTab());
  }

  stop() {
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
  }

  refreshTab() {
    if (this.tab === 'consignments') this.refreshConsignments();
    else if (this.tab === 'audit') this.refreshAudit();
    else if (this.tab === 'link') this.refreshHandoffs();
  }

  relabel() {
    this.renderVehicle();
    this.renderKpis();
    this.renderAlarms();
    this.renderLink();
    this.renderHandoffs();
    this.renderLanes();
    this.renderConsignments();
    this.renderAudit();
  }

  async _load(fn, onData, what) {
    try {
      onData(await fn());
      document.body.dataset[`${what}Error`] = '';
    } catch (e) {
      // 404 while the server does not have the endpoint yet, 403 for a viewer's audit: show it once.
      document.body.dataset[`${what}Error`] = String(e.status ?? 'net');
    }
  }

  // ---------------------------------------------------------------- live feed input

  /** Snapshot / delta parts other than vehicles. */
  onLive(msg, replace) {
    if (Array.isArray(msg.alarms)) {
      if (replace) this.alarms = new Map();
      for (const a of msg.alarms) this.alarms.set(String(a.id), a);
      this.renderAlarms();
    }
    if (Array.isArray(msg.link)) {
      this.link = msg.link;
      this.renderLink();
    }
    if (msg.kpis && typeof msg.kpis === 'object') {
      this.kpis = msg.kpis;
      this.renderKpis();
    }
    if (Array.isArray(msg.routes)) this.ctx.onRoutes(msg.routes, replace);
    if (Array.isArray(msg.consignments)) {
      const byId = new Map(this.consignments.map((c) => [c.id, c]));
      for (const c of msg.consignments) byId.set(c.id, c);
      this.consignments = [...byId.values()];
      this.renderConsignments();
    }
  }

  // ---------------------------------------------------------------- vehicle detail + controls

  select(id) {
    this.selected = id;
    this.renderVehicle();
  }

  renderVehicle() {
    const box = $('vehicle-detail');
    const v = this.selected ? this.ctx.vehicle(this.selected) : null;
    box.hidden = !v;
    if (!v) {
      box.innerHTML = '';
      this._vdHtml = '';
      return;
    }
    const st = displayState(v);
    const r = this.ctx.routes.get(v.id);
    const rows = [
      ['vd.state', `<span class="st-pill" data-state="${st}" id="vd-state">${escapeHtml(t(`status.${st}`))}</span>`],
      ['vehicle.speed', `<b id="vd-speed">${escapeHtml(formatSpeedKmh(v.speed_mps))}</b> ${t('unit.kmh')}`],
      ['vd.mode', escapeHtml(v.mode ? t(`mode.${v.mode}`) : '–')],
      ['vehicle.lane', escapeHtml(v.lane_id ? this.ctx.laneName(v.lane_id) : t('vehicle.no_lane'))],
      ['vd.battery', v.battery_soc == null ? '–' : `${Math.round(v.battery_soc * 100)} %`],
      ['vd.plan', escapeHtml(r?.plan_state ? t(`plan.${r.plan_state}`) : '–') + (r?.hold_reason ? ` · ${escapeHtml(r.hold_reason)}` : '')],
      ['vd.eta', r?.eta_s != null ? fmtDuration(r.eta_s) : '–'],
      ['vd.faults', v.faults?.length ? escapeHtml(v.faults.join(', ')) : t('vd.no_faults')],
    ];
    const controls = this.can('controller')
      ? `<div class="ctl-row">${btn(t('ctl.pause'), 'pause', '', 'id="vd-pause"')}${btn(t('ctl.resume'), 'resume', '', 'id="vd-resume"')}${btn(t('ctl.estop'), 'estop', 'btn-danger', 'id="vd-estop"')}</div>`
      : `<p class="panel-note">${escapeHtml(t('ctl.viewer_note'))}</p>`;
    box.dataset.vehicleId = v.id;
    box.dataset.state = st;
    const html = `<h3>${escapeHtml(v.id)}</h3><dl>${rows.map(([k, val]) => `<dt>${escapeHtml(t(k))}</dt><dd>${val}</dd>`).join('')}</dl>${controls}`;
    // Only touch the DOM on change: a button re-created under the pointer would lose the click.
    if (html !== this._vdHtml) {
      this._vdHtml = html;
      box.innerHTML = html;
    }
  }

  async _vehicleAction(ev) {
    const b = ev.target.closest('[data-action]');
    const id = this.selected;
    if (!b || !id) return;
    const cmd = b.dataset.action;
    const answer = await ask({
      title: t(`ctl.${cmd}_title`, { id }),
      text: cmd === 'estop' ? t('ctl.estop_text', { id }) : '',
      ok: t(`ctl.${cmd}`),
      danger: cmd === 'estop',
      reason: 'optional',
    });
    if (!answer) return;
    try {
      await api.vehicleCommand(id, cmd, answer.reason || undefined);
      toast(t('ctl.sent', { cmd: t(`ctl.${cmd}`), id }));
    } catch (e) {
      toast(`${t('ctl.failed')}: ${e.message}`, 'error');
    }
  }

  // ---------------------------------------------------------------- KPIs

  async refreshKpis() {
    await this._load(api.kpis, (k) => {
      this.kpis = k;
      this.renderKpis();
    }, 'kpis');
  }

  renderKpis() {
    const k = this.kpis?.corridors?.find((c) => c.corridor === this.ctx.corridor()) ?? this.kpis?.corridors?.[0];
    const set = (id, text) => {
      const el = $(id);
      if (el && el.textContent !== text) el.textContent = text;
    };
    set('kpi-crossings', k ? `${k.crossings_today}/${k.target_per_day}` : '–');
    set('kpi-queue', k ? String(k.queue_length) : '–');
    set('kpi-mean-crossing', k ? fmtDuration(k.mean_crossing_time_s) : '–');
    set('kpi-utilisation', k && Number.isFinite(k.vehicle_utilisation) ? `${Math.round(k.vehicle_utilisation * 100)}%` : '–');
  }

  // ---------------------------------------------------------------- alarms

  async refreshAlarms() {
    await this._load(() => api.alarms(!this.showCleared), (list) => {
      this.alarms = new Map(list.map((a) => [String(a.id), a]));
      this.renderAlarms();
    }, 'alarms');
  }

  renderAlarms() {
    const all = sortAlarms([...this.alarms.values()].filter((a) => this.showCleared || !a.cleared_at));
    const list = all.slice(0, MAX_ALARMS_SHOWN);
    const unacked = all.filter((a) => !a.cleared_at && !a.acked_at).length;
    const badge = $('alarm-count');
    badge.textContent = String(unacked);
    badge.hidden = unacked === 0;
    badge.dataset.critical = all.some((a) => !a.cleared_at && !a.acked_at && a.severity === 'critical') ? 'true' : 'false';
    const canAck = this.can('controller');
    const kind = (a) => (t(`alarm.kind.${a.kind}`) === `alarm.kind.${a.kind}` ? a.kind : t(`alarm.kind.${a.kind}`));
    // Keyed by alarm id: an item is only rewritten when it changed, so a burst of other alarms
    // never swaps the button under the controller's pointer.
    keyedList($('alarm-list'), list, (a) => String(a.id), (a) => `<div class="oi-head"><span class="sev sev-${escapeHtml(a.severity)}">${escapeHtml(t(`severity.${a.severity}`))}</span>
  <b>${escapeHtml(kind(a))}</b>
  <span class="oi-sub">${escapeHtml(a.subject ?? '')}</span><span class="oi-time">${fmtTime(a.raised_at)}</span></div>
  <div class="oi-body">${escapeHtml(alarmMessage(a))}</div>
  <div class="oi-foot">${a.acked_at ? `<span class="acked">${escapeHtml(t('alarm.acked_by', { u: a.acked_by ?? '?', at: fmtTime(a.acked_at) }))}</span>` : canAck ? btn(t('alarm.ack'), 'ack') : ''}${a.cleared_at ? `<span class="cleared">${escapeHtml(t('alarm.cleared', { at: fmtTime(a.cleared_at) }))}</span>` : ''}</div>`,
    (el, a) => {
      el.className = 'ops-item alarm';
      el.dataset.alarmId = String(a.id);
      el.dataset.kind = a.kind ?? '';
      el.dataset.subject = a.subject ?? '';
      el.dataset.severity = a.severity ?? '';
      el.dataset.acked = a.acked_at ? 'true' : 'false';
      el.dataset.cleared = a.cleared_at ? 'true' : 'false';
    }, t('alarm.none'));
  }

  async _alarmAction(ev) {
    const b = ev.target.closest('[data-action="ack"]');
    const item = b?.closest('[data-alarm-id]');
    if (!item) return;
    const id = item.dataset.alarmId;
    try {
      const a = await api.ack(id);
      if (a && a.id != null) this.alarms.set(String(a.id), a);
      this.renderAlarms();
      toast(t('alarm.acked'));
    } catch (e) {
      toast(`${t('ctl.failed')}: ${e.message}`, 'error');
      this.refreshAlarms();
    }
  }

  // ---------------------------------------------------------------- handoff link

  async refreshLink() {
    await this._load(api.link, (l) => {
      this.link = l;
      this.renderLink();
    }, 'link');
  }

  async refreshHandoffs() {
    await this._load(() => api.handoffs(20), (h) => {
      this.handoffs = h;
      this.renderHandoffs();
    }, 'handoffs');
  }

  renderLink() {
    setHtml($('link-list'), this.link.length
      ? this.link
        .map(
          (l) => `<div class="ops-item link" data-corridor="${escapeHtml(l.corridor)}" data-link-state="${escapeHtml(l.state)}">
  <div class="oi-head"><span class="link-dot"></span><b>${escapeHtml(l.corridor)}</b> ⇄ <span>${escapeHtml(l.peer ?? '–')}</span>
  <span class="link-state">${escapeHtml(t(`link.${l.state}`))} <span class="zh" lang="zh-CN">${escapeHtml(zh(`link.${l.state}`))}</span></span></div>
  <div class="oi-body">${escapeHtml(t('link.since'))} ${fmtTime(l.since)} · ${escapeHtml(t('link.heard'))} ${fmtTime(l.last_heard_at)} · ${escapeHtml(t('link.outbox'))} <b>${escapeHtml(l.outbox_pending ?? 0)}</b></div>
</div>`,
        )
        .join('')
      : `<p class="panel-note">${escapeHtml(t('link.none'))}</p>`);
  }

  renderHandoffs() {
    setHtml($('handoff-list'), this.handoffs.length
      ? `<table class="ops-table"><thead><tr><th>${t('handoff.vehicle')}</th><th>${t('handoff.consignment')}</th><th>${t('handoff.direction')}</th><th>${t('handoff.state')}</th><th>${t('handoff.at')}</th></tr></thead><tbody>${this.handoffs
        .map((h) => `<tr><td>${escapeHtml(h.vehicle_id)}</td><td>${escapeHtml(h.consignment_id ?? '–')}</td><td>${escapeHtml(h.direction ?? '')}</td><td>${escapeHtml(h.state)}</td><td>${fmtTime(h.crossed_at ?? h.decided_at ?? h.offered_at)}</td></tr>`)
        .join('')}</tbody></table>`
      : `<p class="panel-note">${escapeHtml(t('handoff.none'))}</p>`);
  }

  // ---------------------------------------------------------------- lanes

  async refreshLanes() {
    const c = this.ctx.corridor();
    if (!c) return;
    await this._load(() => api.lanes(c), (l) => this.setLanes(l), 'lanes');
  }

  setLanes(lanes) {
    this.lanes = lanes;
    this.ctx.onLanes(lanes);
    this.renderLanes();
  }

  renderLanes() {
    const canCtl = this.can('controller');
    const lanes = [...this.lanes].sort((a, b) => Number(b.reserved_for_guided) - Number(a.reserved_for_guided) || String(a.lane_id).localeCompare(String(b.lane_id)));
    setHtml($('lane-list'), lanes.length
      ? lanes
        .map(
          (l) => `<div class="ops-item lane-item" data-lane-id="${escapeHtml(l.lane_id)}" data-closed="${l.closed ? 'true' : 'false'}">
  <div class="oi-head"><b>${escapeHtml(this.ctx.laneName(l.lane_id))}</b><span class="oi-sub">${escapeHtml(l.lane_id)}</span>
  <span class="lane-state">${escapeHtml(l.closed ? t('lane.closed') : t('lane.open'))}</span></div>
  <div class="oi-body">${escapeHtml(l.reserved_for_guided ? t('lane.kind.driverless') : t('lane.kind.traditional'))}${l.direction ? ` · ${escapeHtml(t(`lane.direction.${l.direction}`))}` : ''}${l.length_m != null ? ` · ${Math.round(l.length_m)} ${t('unit.m')}` : ''}${l.closed && l.closed_reason ? `<br>${escapeHtml(t('lane.reason'))}: ${escapeHtml(l.closed_reason)}` : ''}</div>
  ${canCtl ? `<div class="oi-foot">${l.closed ? btn(t('lane.reopen'), 'reopen') : btn(t('lane.close'), 'close', 'btn-warn')}</div>` : ''}
</div>`,
        )
        .join('')
      : `<p class="panel-note">${escapeHtml(t('lane.none'))}</p>`);
  }

  async _laneAction(ev) {
    const b = ev.target.closest('[data-action]');
    const item = b?.closest('[data-lane-id]');
    if (!item) return;
    const lane = item.dataset.laneId;
    const corridor = this.ctx.corridor();
    const closing = b.dataset.action === 'close';
    const answer = await ask({
      title: t(closing ? 'lane.close_title' : 'lane.reopen_title', { lane: this.ctx.laneName(lane) }),
      text: closing ? t('lane.close_text') : '',
      ok: t(closing ? 'lane.close' : 'lane.reopen'),
      danger: closing,
      reason: closing ? 'required' : 'none',
    });
    if (!answer) return;
    try {
      if (closing) await api.closeLane(corridor, lane, answer.reason);
      else await api.reopenLane(corridor, lane);
      toast(t(closing ? 'lane.closed_ok' : 'lane.reopened_ok', { lane }));
    } catch (e) {
      toast(`${t('ctl.failed')}: ${e.message}`, 'error');
    }
    this.refreshLanes();
    this.refreshRoutes();
  }

  // ---------------------------------------------------------------- routes

  async refreshRoutes() {
    await this._load(api.routes, (r) => this.ctx.onRoutes(r, true), 'routes');
  }

  // ---------------------------------------------------------------- consignments

  async refreshConsignments() {
    await this._load(api.consignments, (list) => {
      this.consignments = list;
      this.renderConsignments();
    }, 'consignments');
  }

  renderConsignments() {
    const canCtl = this.can('controller');
    const here = this.consignments.filter((c) => !c.corridor || c.corridor === this.ctx.corridor());
    const open = here.filter((c) => !['delivered', 'crossed', 'received', 'cancelled', 'rejected'].includes(c.state));
    const list = open.length ? open : here;
    const clr = (ok) => `<span class="clr" data-ok="${ok ? 'true' : 'false'}">${ok ? '✓' : '✗'}</span>`;
    setHtml($('consignment-list'), list.length
      ? list
        .map((c) => {
          const goods = c.goods?.fruit_kind ? t(`goods.${c.goods.fruit_kind}`) === `goods.${c.goods.fruit_kind}` ? c.goods.fruit_kind : t(`goods.${c.goods.fruit_kind}`) : t(`goods.cat.${c.goods?.category}`) === `goods.cat.${c.goods?.category}` ? c.goods?.category ?? '' : t(`goods.cat.${c.goods?.category}`);
          const held = c.state === 'held';
          return `<div class="ops-item consignment" data-consignment-id="${escapeHtml(c.id)}" data-state="${escapeHtml(c.state)}">
  <div class="oi-head"><b>${escapeHtml(c.container_number ?? c.id)}</b><span class="oi-sub">${escapeHtml(goods)}</span>
  <span class="cs-state">${escapeHtml(t(`cstate.${c.state}`) === `cstate.${c.state}` ? c.state : t(`cstate.${c.state}`))}</span></div>
  <div class="oi-body">${escapeHtml(t('consignment.customs'))} ${clr(c.clearance?.customs)} · ${escapeHtml(t('consignment.quarantine'))} ${clr(c.clearance?.quarantine)} · ${escapeHtml(t('consignment.priority'))} <b class="prio">${escapeHtml(c.priority)}</b>${c.vehicle_id ? ` · ${escapeHtml(c.vehicle_id)}` : ''}${c.direction ? ` · ${escapeHtml(t(`lane.direction.${c.direction}`))}` : ''}
  ${c.clearance?.problems?.length ? `<div class="problems">${escapeHtml(c.clearance.problems.join('; '))}</div>` : ''}</div>
  ${canCtl ? `<div class="oi-foot">${held ? btn(t('consignment.release'), 'release') : btn(t('consignment.hold'), 'hold', 'btn-warn')}${btn(t('consignment.reprioritise'), 'priority')}</div>` : ''}
</div>`;
        })
        .join('')
      : `<p class="panel-note">${escapeHtml(document.body.dataset.consignmentsError ? t('consignment.unavailable') : t('consignment.none'))}</p>`);
  }

  async _consignmentAction(ev) {
    const b = ev.target.closest('[data-action]');
    const item = b?.closest('[data-consignment-id]');
    if (!item) return;
    const id = item.dataset.consignmentId;
    const c = this.consignments.find((x) => x.id === id);
    const action = b.dataset.action;
    const answer = await ask({
      title: t(`consignment.${action}_title`, { id: c?.container_number ?? id }),
      ok: t(action === 'priority' ? 'consignment.reprioritise' : `consignment.${action}`),
      reason: 'required',
      number: action === 'priority' ? { value: c?.priority ?? 0, min: 0, max: 9 } : undefined,
    });
    if (!answer) return;
    try {
      let rec;
      if (action === 'hold') rec = await api.hold(id, answer.reason);
      else if (action === 'release') rec = await api.release(id, answer.reason);
      else rec = await api.priority(id, answer.number, answer.reason);
      if (rec?.id) {
        this.consignments = this.consignments.map((x) => (x.id === rec.id ? rec : x));
        this.renderConsignments();
      }
      toast(t('consignment.done'));
    } catch (e) {
      toast(`${t('ctl.failed')}: ${e.message}`, 'error');
    }
    this.refreshConsignments();
  }

  // ---------------------------------------------------------------- audit

  async refreshAudit() {
    if (!this.can('controller')) return;
    await this._load(() => api.audit(100), (a) => {
      this.audit = a;
      this.renderAudit();
    }, 'audit');
  }

  renderAudit() {
    const chain = $('audit-chain');
    if (!this.audit) {
      chain.textContent = '';
      setHtml($('audit-list'), `<p class="panel-note">${escapeHtml(t(document.body.dataset.auditError ? 'audit.unavailable' : 'panel.loading_generic'))}</p>`);
      return;
    }
    chain.dataset.ok = this.audit.chain_ok ? 'true' : 'false';
    chain.textContent = this.audit.chain_ok ? t('audit.chain_ok') : t('audit.chain_bad');
    const rows = this.audit.entries ?? [];
    setHtml($('audit-list'), rows.length
      ? `<table class="ops-table audit"><thead><tr><th>${t('audit.at')}</th><th>${t('audit.user')}</th><th>${t('audit.action')}</th><th>${t('audit.target')}</th><th>${t('audit.result')}</th></tr></thead><tbody>${rows
        .map((e) => `<tr data-audit-id="${escapeHtml(e.id)}" data-result="${escapeHtml(e.result)}" title="${escapeHtml(e.detail ?? '')}"><td>${fmtTime(e.at)}</td><td>${escapeHtml(e.username ?? '–')}</td><td>${escapeHtml(e.action)}</td><td>${escapeHtml(e.target ?? '')}</td><td class="res">${escapeHtml(e.result)}</td></tr>`)
        .join('')}</tbody></table>`
      : `<p class="panel-note">${escapeHtml(t('audit.none'))}</p>`);
  }
}
