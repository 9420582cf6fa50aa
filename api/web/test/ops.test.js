// Unit tests of the DOM-free helpers added for login, controls and the operations panels.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isExpired, roleAtLeast, ApiError } from '../static/api.js';
import { liveUrl, CLOSE_UNAUTHORIZED } from '../static/live.js';
import { displayState, STATUSES } from '../static/theme.js';
import { routeKey } from '../static/routes.js';
import { sortAlarms, alarmMessage, fmtDuration, escapeHtml } from '../static/ops.js';
import { STRINGS, zh } from '../static/i18n.js';

test('session expiry follows expires_at', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');
  assert.equal(isExpired({ expires_at: '2026-11-23T09:59:59Z' }, now), true);
  assert.equal(isExpired({ expires_at: '2026-11-23T10:00:01Z' }, now), false);
  assert.equal(isExpired({ expires_at: null }, now), false);
});

test('roles are ordered viewer < controller < admin', () => {
  assert.equal(roleAtLeast('viewer', 'controller'), false);
  assert.equal(roleAtLeast('controller', 'controller'), true);
  assert.equal(roleAtLeast('admin', 'controller'), true);
  assert.equal(roleAtLeast(undefined, 'viewer'), false);
  assert.equal(roleAtLeast('admin', 'nonsense'), false);
});

test('ApiError carries the problem document', () => {
  const e = new ApiError(409, { title: 'Conflict', detail: 'lane E-AUTO is already closed' }, '/x');
  assert.equal(e.status, 409);
  assert.equal(e.message, 'lane E-AUTO is already closed');
  assert.equal(new ApiError(500, null, '/y').message, '/y: HTTP 500');
});

test('the live URL carries the token as a query parameter', () => {
  const loc = { protocol: 'https:', host: 'gate.example:8443' };
  assert.equal(liveUrl(loc, 'a b/c'), 'wss://gate.example:8443/ws/live?token=a%20b%2Fc');
  assert.equal(liveUrl({ protocol: 'http:', host: 'localhost' }), 'ws://localhost/ws/live');
  assert.equal(CLOSE_UNAUTHORIZED, 4401);
});

test('an e-stopped or paused vehicle shows its stop mode, offline wins', () => {
  assert.equal(displayState({ status: 'holding', mode: 'estopped' }), 'estopped');
  assert.equal(displayState({ status: 'moving', mode: 'paused' }), 'paused');
  assert.equal(displayState({ status: 'offline', mode: 'estopped' }), 'offline');
  assert.equal(displayState({ status: 'moving', mode: 'driving' }), 'moving');
  assert.equal(displayState({ status: 'weird' }), 'offline');
  for (const s of STATUSES) {
    assert.ok(STRINGS.vi[`status.${s}`], `status.${s} has a Vietnamese label`);
    assert.ok(STRINGS.en[`status.${s}`], `status.${s} has an English label`);
  }
});

test('routeKey tells a new plan from the same plan sent again', () => {
  const a = { type: 'LineString', coordinates: [[106.1, 21.9], [106.2, 22.0]] };
  const same = { type: 'LineString', coordinates: [[106.1000000001, 21.9], [106.2, 22.0]] };
  const other = { type: 'LineString', coordinates: [[106.1, 21.9], [106.3, 22.0]] };
  assert.equal(routeKey(a), routeKey(same));
  assert.notEqual(routeKey(a), routeKey(other));
  assert.equal(routeKey(null), '');
  assert.equal(routeKey({ type: 'LineString', coordinates: [[1, 2]] }), '');
});

test('alarms: active before cleared, critical first, newest first', () => {
  const list = [
    { id: 1, severity: 'info', raised_at: '2026-11-23T10:00:00Z' },
    { id: 2, severity: 'critical', raised_at: '2026-11-23T09:00:00Z', cleared_at: '2026-11-23T09:05:00Z' },
    { id: 3, severity: 'critical', raised_at: '2026-11-23T08:00:00Z' },
    { id: 4, severity: 'warning', raised_at: '2026-11-23T11:00:00Z' },
    { id: 5, severity: 'critical', raised_at: '2026-11-23T08:30:00Z' },
  ];
  assert.deepEqual(sortAlarms(list).map((a) => a.id), [5, 3, 4, 1, 2]);
  const a = { kind: 'estop', message_en: 'Vehicle hn_01 e-stopped', message_vi: 'Xe hn_01 dừng khẩn cấp' };
  assert.equal(alarmMessage(a, 'vi'), 'Xe hn_01 dừng khẩn cấp');
  assert.equal(alarmMessage(a, 'en'), 'Vehicle hn_01 e-stopped');
  assert.equal(alarmMessage({ kind: 'estop', message_en: 'only en' }, 'vi'), 'only en');
});

test('formatting helpers', () => {
  assert.equal(fmtDuration(125), '2:05');
  assert.equal(fmtDuration(42.4), '42 s');
  assert.equal(fmtDuration(NaN), '–');
  assert.equal(escapeHtml('<b a="1">&'), '&#60;b a=&#34;1&#34;&#62;&#38;');
});

test('the handoff link states have Chinese labels', () => {
  for (const s of ['connected', 'lagging', 'down', 'not_configured']) assert.ok(zh(`link.${s}`), s);
  assert.equal(zh('link.down'), '已断开');
});
