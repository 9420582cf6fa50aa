// REST client for the smartgate API (same origin), with the bearer token of the logged-in user.
// The token lives in sessionStorage: a control-room login lasts one browser tab, not forever.

const TOKEN_KEY = 'smartgate.session';

let session = null; // {token, expires_at, user: {username, role}}
const unauthorizedListeners = new Set();

function storage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** An HTTP error carrying the RFC 9457 problem document (title/detail) when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem, path) {
    super(problem?.detail || problem?.title || `${path}: HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? null;
    this.path = path;
  }
}

export function getSession() {
  if (session) return session;
  const raw = storage()?.getItem(TOKEN_KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw);
    if (s?.token && !isExpired(s)) session = s;
  } catch {
    // corrupt: ignore
  }
  return session;
}

export function setSession(s) {
  session = s && s.token ? s : null;
  if (session) storage()?.setItem(TOKEN_KEY, JSON.stringify(session));
  else storage()?.removeItem(TOKEN_KEY);
}

/** True once `expires_at` (ISO 8601) has passed; a session without expiry never expires client-side. */
export function isExpired(s, now = Date.now()) {
  const at = Date.parse(s?.expires_at ?? '');
  return Number.isFinite(at) && at <= now;
}

/** Called (once per 401) so the app can drop the session and show the login screen. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** Role rank: viewer < controller < admin. */
export function roleAtLeast(role, wanted) {
  const rank = { viewer: 1, controller: 2, admin: 3 };
  return (rank[role] ?? 0) >= (rank[wanted] ?? 99);
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const s = getSession();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !path.endsWith('/auth/login')) for (const fn of unauthorizedListeners) fn();
    throw new ApiError(res.status, data, path);
  }
  return data;
}

const enc = encodeURIComponent;
const get = (path) => request('GET', path);
const post = (path, body = {}) => request('POST', path, body);

export const api = {
  login: (username, password) => post('/api/v1/auth/login', { username, password }),
  logout: () => post('/api/v1/auth/logout'),
  me: () => get('/api/v1/auth/me'),

  corridors: () => get('/api/v1/corridors'),
  corridorMap: (id) => get(`/api/v1/corridors/${enc(id)}/map`),
  lanes: (id) => get(`/api/v1/corridors/${enc(id)}/lanes`),
  closeLane: (corridor, lane, reason) => post(`/api/v1/corridors/${enc(corridor)}/lanes/${enc(lane)}/close`, { reason }),
  reopenLane: (corridor, lane) => post(`/api/v1/corridors/${enc(corridor)}/lanes/${enc(lane)}/reopen`, {}),

  vehicles: () => get('/api/v1/vehicles'),
  vehicleCommand: (id, command, reason) =>
    post(`/api/v1/vehicles/${enc(id)}/${command}`, reason ? { reason } : {}),
  routes: () => get('/api/v1/routes'),

  consignments: () => get('/api/v1/consignments?limit=200'),
  // The actor is the logged-in user (the server takes it from the token).
  hold: (id, reason) => post(`/api/v1/consignments/${enc(id)}/hold`, { reason }),
  release: (id, reason) => post(`/api/v1/consignments/${enc(id)}/release`, { reason }),
  priority: (id, priority, reason) => post(`/api/v1/consignments/${enc(id)}/priority`, { priority, reason }),

  link: () => get('/api/v1/handoff/link'),
  handoffs: (limit = 20) => get(`/api/v1/handoffs?limit=${limit}`),
  /** activeOnly: only uncleared alarms; otherwise all of them (active and cleared). */
  alarms: (activeOnly = true) => get(activeOnly ? '/api/v1/alarms?active=true' : '/api/v1/alarms'),
  ack: (id, note) => post(`/api/v1/alarms/${enc(id)}/ack`, note ? { note } : {}),
  kpis: () => get('/api/v1/kpis'),
  audit: (limit = 100) => get(`/api/v1/audit?limit=${limit}`),
};
