// Smartgate live map: wires the map, the corridor switcher, the live feed and the side panel.

import { t, setLang, getLang, initialLang, localName, onLangChange } from './i18n.js';
import { api, getSession, setSession, onUnauthorized, ApiError, isExpired } from './api.js';
import { Ops } from './ops.js';
import { RoutesLayer, ClosedLanesLayer } from './routes.js';
import { createMap, CorridorLayer } from './mapview.js';
import { createLegend } from './legend.js';
import { VehicleLayer } from './vehicles.js';
import { VehiclePanel, renderKpis } from './panel.js';
import { LiveFeed, liveUrl } from './live.js';
import { bboxToLatLngBounds } from './geo.js';

const L = globalThis.L;
const CORRIDOR_KEY = 'smartgate.corridor';
const RENDER_MS = 250;
const SELECT_ZOOM = 17.5;

const $ = (id) => document.getElementById(id);

const state = {
  corridors: [],
  corridorId: null,
  layer: null, // CorridorLayer of the shown corridor
  maps: new Map(), // corridor id -> GeoJSON
  selected: null,
  follow: false,
  conn: { state: 'connecting', retryAt: 0 },
  dirty: false,
};

let map;
let legend;
let vehicles;
let panel;
let switchSeq = 0;
let routes;
let closedLanes;
let ops;
let feed = null;
let started = false;

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: not remembered
  }
}

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- errors

function showError(msg) {
  const box = $('map-error');
  box.textContent = msg;
  box.hidden = !msg;
}

// ---------------------------------------------------------------- corridors

function fillCorridorSelect() {
  const sel = $('corridor-select');
  const keep = state.corridorId;
  if (!state.corridors.length) return; // keep the "loading…" placeholder
  sel.replaceChildren(
    ...state.corridors.map((c) => {
      const o = document.createElement('option');
      o.value = c.id;
      const name = localName(c) || c.id;
      const ms = Array.isArray(c.markers) ? c.markers : [];
      // Append the border markers unless the name already mentions them.
      const markers = ms.length && !ms.some((m) => name.includes(m)) ? ` · ${ms.join('–')}` : '';
      o.textContent = `${name}${markers}`;
      return o;
    }),
  );
  if (keep) sel.value = keep;
  sel.disabled = state.corridors.length === 0;
}

function corridorBounds() {
  const c = state.corridors.find((x) => x.id === state.corridorId);
  const b = c && bboxToLatLngBounds(c.bounds);
  if (b) return L.latLngBounds(b);
  return state.layer?.bounds ?? null;
}

function fitCorridor(animate = false) {
  const b = corridorBounds();
  if (b) map.fitBounds(b, { padding: [24, 24], animate });
}

async function switchCorridor(id, { fit = true } = {}) {
  if (!id) return;
  const seq = ++switchSeq;
  state.corridorId = id;
  $('corridor-select').value = id;
  store(CORRIDOR_KEY, id);
  document.body.dataset.corridor = id;
  writeHash();
  vehicles.setCorridor(id);
  routes.setCorridor(id);
  if (state.selected && vehicles.get(state.selected)?.corridor !== id) select(null);
  markDirty();

  let gj = state.maps.get(id);
  if (!gj) {
    try {
      gj = await api.corridorMap(id);
      state.maps.set(id, gj);
    } catch (e) {
      console.error(e);
      if (seq === switchSeq) showError(t('error.map'));
      return;
    }
  }
  if (seq !== switchSeq) return; // a newer switch won
  showError('');
  state.layer?.remove();
  state.layer = new CorridorLayer(map, gj).addTo(map);
  $('map').dataset.mapLoaded = id;
  if (fit) fitCorridor(false);
  closedLanes.update([], gj);
  ops.refreshLanes();
  ops.renderKpis();
  ops.renderConsignments();
  markDirty();
}

// ---------------------------------------------------------------- selection

/** Deep link: #corridor=ID&vehicle=ID (kept up to date on selection). */
function readHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  return { corridor: p.get('corridor'), vehicle: p.get('vehicle') };
}

function writeHash() {
  const p = new URLSearchParams();
  if (state.corridorId) p.set('corridor', state.corridorId);
  if (state.selected) p.set('vehicle', state.selected);
  const h = `#${p}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}

function select(id, { pan = false } = {}) {
  if (id && id === state.selected && pan) {
    // Clicking the selected row again: deselect.
    id = null;
  }
  state.selected = id;
  if (!id) state.follow = false;
  vehicles.select(id);
  panel.setSelected(id, state.follow);
  ops.select(id);
  document.body.dataset.selected = id ?? '';
  writeHash();
  if (id && pan) {
    const pos = vehicles.position(id);
    if (pos) {
      if (map.getZoom() < SELECT_ZOOM) map.setView(pos, SELECT_ZOOM, { animate: true });
      else map.panTo(pos, { animate: true });
    }
  }
}

function setFollow(on) {
  state.follow = !!on && !!state.selected;
  panel.setSelected(state.selected, state.follow);
  if (state.follow) followLoop();
}

function followLoop() {
  if (!state.follow || !state.selected) return;
  const pos = vehicles.position(state.selected);
  if (pos) map.panTo(pos, { animate: false });
  requestAnimationFrame(followLoop);
}

// ---------------------------------------------------------------- rendering

function markDirty() {
  state.dirty = true;
}

function render() {
  if (!state.dirty) return;
  state.dirty = false;
  const all = vehicles.all();
  const here = all.filter((v) => v.corridor === state.corridorId);
  panel.render(here, all.length - here.length);
  panel.setSelected(state.selected, state.follow);
  renderKpis(here);
  ops.renderVehicle();
}

function renderConn() {
  const box = $('conn-status');
  const { state: s, retryAt } = state.conn;
  box.dataset.state = s;
  document.body.dataset.conn = s;
  let retry = '';
  let title = t('conn.title');
  if (s === 'reconnecting' && retryAt) {
    const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    if (secs > 0) {
      retry = `${secs}s`;
      title = t('conn.reconnecting_in', { s: secs });
    }
  }
  const text = t(`conn.${s}`);
  const span = box.querySelector('.conn-text');
  if (span.textContent !== text) span.textContent = text;
  const r = box.querySelector('.conn-retry');
  if (r.textContent !== retry) r.textContent = retry;
  box.title = title;
  vehicles?.setStale(s !== 'live');
}

// ---------------------------------------------------------------- clock

const clockFmt = {};
function fmtTime(zone, withSeconds) {
  const key = `${zone}|${withSeconds}`;
  if (!clockFmt[key]) {
    try {
      clockFmt[key] = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone, hour: '2-digit', minute: '2-digit', second: withSeconds ? '2-digit' : undefined, hourCycle: 'h23',
      });
    } catch {
      clockFmt[key] = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: withSeconds ? '2-digit' : undefined });
    }
  }
  return clockFmt[key];
}

function fmtDate(now) {
  try {
    return new Intl.DateTimeFormat(getLang() === 'vi' ? 'vi-VN' : 'en-GB', {
      timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric',
    }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

function tick() {
  const now = new Date();
  $('clock-vn').textContent = fmtTime('Asia/Ho_Chi_Minh', true).format(now);
  $('clock-cn').textContent = fmtTime('Asia/Shanghai', false).format(now);
  $('clock-date').textContent = fmtDate(now);
  renderConn();
  panel.refresh(); // "updated N s ago"
  if (started && isExpired(getSession())) sessionLost();
}

// ---------------------------------------------------------------- language

function applyLang() {
  const lang = getLang();
  const btn = $('lang-toggle');
  btn.dataset.lang = lang;
  btn.title = t('lang.toggle_title');
  btn.setAttribute('aria-label', t('lang.toggle_title'));
  fillCorridorSelect();
  state.layer?.relabel();
  legend?.relabel();
  vehicles?.relabel();
  renderConn();
  panel?.refresh();
  ops?.relabel();
  renderUser();
  $('fit-corridor').title = t('corridor.fit');
}

// ---------------------------------------------------------------- boot

async function loadCorridors() {
  for (let attempt = 0; started; attempt++) {
    try {
      const list = await api.corridors();
      if (Array.isArray(list)) return list;
    } catch (e) {
      console.error(e);
    }
    showError(t('error.corridors'));
    await new Promise((r) => setTimeout(r, Math.min(10000, 1000 * 2 ** attempt)));
  }
  return [];
}

// ---------------------------------------------------------------- login

function renderUser() {
  const s = getSession();
  $('user-box').hidden = !s;
  if (!s) return;
  $('user-name').textContent = s.user?.username ?? '';
  const role = s.user?.role ?? '';
  $('user-role').textContent = role ? t(`role.${role}`) : '';
  $('user-role').dataset.role = role;
}

function showLogin(message = '') {
  document.body.dataset.auth = 'out';
  $('login-screen').hidden = false;
  const err = $('login-error');
  err.textContent = message;
  err.hidden = !message;
  renderUser();
  setTimeout(() => $('login-user').focus(), 0);
}

function hideLogin() {
  document.body.dataset.auth = 'in';
  $('login-screen').hidden = true;
  renderUser();
}

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const user = $('login-user').value.trim();
  const pass = $('login-pass').value;
  $('login-submit').disabled = true;
  try {
    const res = await api.login(user, pass);
    setSession({ token: res.token, expires_at: res.expires_at, user: res.user });
    $('login-pass').value = '';
    hideLogin();
    await start();
  } catch (e) {
    console.error(e);
    showLogin(e instanceof ApiError && e.status === 401 ? t('auth.bad_credentials') : t('auth.error', { msg: e.message }));
  } finally {
    $('login-submit').disabled = false;
  }
}

/** Token refused (expired, server restarted): stop everything and ask for a login again. */
function sessionLost() {
  if (!getSession() && !started) return;
  stopLive();
  setSession(null);
  showLogin(t('auth.expired'));
}

async function logout() {
  try {
    await api.logout();
  } catch {
    // already invalid: fine
  }
  stopLive();
  setSession(null);
  showLogin('');
}

function stopLive() {
  started = false;
  feed?.stop();
  feed = null;
  ops.stop();
  state.conn = { state: 'connecting', retryAt: 0 };
  renderConn();
  document.body.dataset.ready = 'false';
}

// ---------------------------------------------------------------- boot

async function main() {
  setLang(initialLang());
  map = createMap($('map'));
  legend = createLegend(map);
  routes = new RoutesLayer(map);
  closedLanes = new ClosedLanesLayer(map);
  vehicles = new VehicleLayer(map, { onClick: (id) => select(id === state.selected ? null : id) });
  panel = new VehiclePanel($('vehicle-list'), {
    onSelect: (id) => select(id, { pan: true }),
    onFollow: setFollow,
    laneName: (id) => state.layer?.laneName(id) ?? id,
  });
  ops = new Ops({
    user: () => getSession()?.user ?? null,
    corridor: () => state.corridorId,
    laneName: (id) => state.layer?.laneName(id) ?? id,
    vehicle: (id) => vehicles.get(id),
    routes,
    onLanes: (lanes) => closedLanes.update(lanes, state.maps.get(state.corridorId)),
    onRoutes: (list, replace) => {
      if (replace) routes.replaceAll(list);
      else for (const r of list) routes.upsert(r);
      markDirty();
    },
  });
  onLangChange(applyLang);
  applyLang();
  ops.showTab('vehicles');

  const toggleLang = () => setLang(getLang() === 'vi' ? 'en' : 'vi');
  $('lang-toggle').addEventListener('click', toggleLang);
  $('login-lang').addEventListener('click', toggleLang);
  $('login-form').addEventListener('submit', onLoginSubmit);
  $('logout-btn').addEventListener('click', logout);
  onUnauthorized(sessionLost);
  $('corridor-select').addEventListener('change', (ev) => switchCorridor(ev.target.value));
  $('fit-corridor').addEventListener('click', () => fitCorridor(true));
  $('vehicle-other').addEventListener('click', () => {
    const other = vehicles.all().find((v) => v.corridor && v.corridor !== state.corridorId);
    if (other) switchCorridor(other.corridor);
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && state.selected && !$('confirm-dialog').open) select(null);
  });
  map.on('dragstart', () => {
    if (state.follow) setFollow(false);
  });
  window.addEventListener('resize', () => map.invalidateSize());

  tick();
  setInterval(tick, 1000);
  setInterval(render, RENDER_MS);
  renderConn();
  window.smartgate = { state, map, vehicles, routes, closedLanes, ops, select, switchCorridor, get feed() { return feed; } }; // for debugging and e2e tests

  if (getSession()) {
    hideLogin();
    await start();
  } else {
    showLogin('');
  }
}

/** After login: live feed, corridors, panels. */
async function start() {
  if (started) return;
  started = true;
  ops.applyRole();
  // Live feed first so no update is missed while the map loads; the snapshot replaces everything.
  feed = new LiveFeed({
    onSnapshot: (list, msg) => {
      vehicles.replaceAll(list);
      if (msg) ops.onLive(msg, true);
      if (state.selected && !vehicles.get(state.selected)) select(null);
      markDirty();
    },
    onVehicle: (v) => {
      vehicles.upsert(v);
      markDirty();
    },
    onDelta: (msg) => ops.onLive(msg, false),
    onState: (s, info = {}) => {
      state.conn = { state: s, retryAt: info.retryAt ?? 0 };
      renderConn();
    },
    onUnauthorized: sessionLost,
    poll: api.vehicles,
  }, () => liveUrl(location, getSession()?.token));
  feed.start();
  ops.start();

  if (!state.corridors.length) {
    state.corridors = await loadCorridors();
    if (!started) return;
    showError('');
  }
  fillCorridorSelect();
  const link = readHash();
  const saved = load(CORRIDOR_KEY);
  const first =
    state.corridors.find((c) => c.id === link.corridor) ??
    state.corridors.find((c) => c.id === saved) ??
    state.corridors[0];
  if (first) await switchCorridor(first.id, { fit: true });

  if (feed && feed.state !== 'live') {
    try {
      const list = await api.vehicles();
      if (feed && feed.state !== 'live' && Array.isArray(list)) {
        vehicles.replaceAll(list);
        markDirty();
      }
    } catch (e) {
      console.error(e);
    }
  }
  render();
  if (link.vehicle && vehicles.get(link.vehicle)) {
    const v = vehicles.get(link.vehicle);
    if (v.corridor && v.corridor !== state.corridorId) await switchCorridor(v.corridor, { fit: false });
    select(link.vehicle, { pan: true });
  }
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  showError(String(e?.message ?? e));
});
