// Live feed: WebSocket /ws/live?token= with reconnect + exponential backoff,
// and a REST poll of /api/v1/vehicles while the socket is down.
// Messages: {"type":"snapshot", vehicles, alarms?, link?, kpis?, routes?} then
// {"type":"delta", vehicles, alarms?, link?, kpis?, routes?, consignments?}; the older
// {"type":"vehicle", vehicle} is still understood. Close code 4401 = token missing/expired.

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 15000;
const POLL_MS = 5000;

/** Delay before reconnect attempt `n` (0-based): 1 s, 2 s, 4 s … capped, with ±20 % jitter. */
export function backoffDelay(n, rand = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, n));
  return Math.round(base * (0.8 + 0.4 * rand()));
}

export const CLOSE_UNAUTHORIZED = 4401;

export function liveUrl(loc = globalThis.location, token = null) {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${proto}//${loc.host}/ws/live${q}`;
}

/**
 * @param {{
 *   onSnapshot: (vehicles: object[], msg?: object) => void,
 *   onVehicle: (vehicle: object) => void,
 *   onDelta?: (msg: object) => void,
 *   onUnauthorized?: () => void,
 *   onState: (state: 'connecting'|'live'|'reconnecting', info?: {retryAt?: number, attempt?: number}) => void,
 *   poll?: () => Promise<object[]>,
 * }} handlers
 */
export class LiveFeed {
  /** `url` may be a function, evaluated at each (re)connect so a fresh token is used. */
  constructor(handlers, url = () => liveUrl()) {
    this.h = handlers;
    this.url = url;
    this.ws = null;
    this.attempt = 0;
    this.timer = 0;
    this.pollTimer = 0;
    this.stopped = false;
    this.state = 'connecting';
  }

  start() {
    this.stopped = false;
    this._connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pollTimer);
    this.pollTimer = 0;
    this.ws?.close();
  }

  _setState(state, info) {
    this.state = state;
    this.h.onState?.(state, info);
  }

  _connect() {
    if (this.stopped) return;
    this._setState(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(typeof this.url === 'function' ? this.url() : this.url);
    } catch (e) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this._onMessage(ev);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (ev?.code === CLOSE_UNAUTHORIZED) {
        // No point retrying with the same token: the app logs out and shows the login screen.
        this.stop();
        this._setState('reconnecting');
        this.h.onUnauthorized?.();
        return;
      }
      this._scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows; nothing else to do here.
    };
  }

  _onMessage(ev) {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'snapshot' && Array.isArray(msg.vehicles)) {
      this.attempt = 0;
      this._stopPolling();
      this._setState('live');
      this.h.onSnapshot?.(msg.vehicles, msg);
    } else if (msg.type === 'delta') {
      if (this.state !== 'live') {
        this.attempt = 0;
        this._stopPolling();
        this._setState('live');
      }
      for (const v of Array.isArray(msg.vehicles) ? msg.vehicles : []) this.h.onVehicle?.(v);
      this.h.onDelta?.(msg);
    } else if (msg.type === 'vehicle' && msg.vehicle) {
      if (this.state !== 'live') {
        this.attempt = 0;
        this._stopPolling();
        this._setState('live');
      }
      this.h.onVehicle?.(msg.vehicle);
    }
  }

  _scheduleReconnect() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this._setState('reconnecting', { retryAt: Date.now() + delay, attempt: this.attempt });
    this._startPolling();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _startPolling() {
    if (this.pollTimer || !this.h.poll) return;
    const tick = async () => {
      try {
        const list = await this.h.poll();
        if (this.state !== 'live' && Array.isArray(list)) this.h.onSnapshot?.(list);
      } catch {
        // server unreachable too; keep trying
      }
    };
    this.pollTimer = setInterval(tick, POLL_MS);
  }

  _stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = 0;
  }
}
