// Unit tests of the DOM-free parts of the live map: `npm test` (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { STRINGS, LANGS, t, localName } from '../static/i18n.js';
import {
  metersPerPixel, widthToPixels, distanceM, lineLengthM, splitLineAt, lerpAngleDeg, bboxToLatLngBounds,
} from '../static/geo.js';
import { backoffDelay, liveUrl } from '../static/live.js';
import { formatSpeedKmh } from '../static/panel.js';
import { goalLabel } from '../static/vehicles.js';

test('every UI string exists in both languages', () => {
  const vi = Object.keys(STRINGS.vi).sort();
  const en = Object.keys(STRINGS.en).sort();
  assert.deepEqual(vi, en);
  assert.deepEqual(LANGS, ['vi', 'en']);
  for (const lang of LANGS) for (const k of vi) assert.ok(STRINGS[lang][k].trim(), `${lang}.${k} empty`);
});

test('Vietnamese strings carry diacritics', () => {
  assert.equal(t('status.moving', undefined, 'vi'), 'Đang di chuyển');
  assert.equal(t('status.at_handoff', undefined, 'vi'), 'Chờ bàn giao');
  assert.equal(t('legend.zero_line', undefined, 'vi'), 'Đường biên giới (km 0)');
  assert.match(t('legend.lane_export', undefined, 'vi'), /^Làn dành riêng xe tự hành/);
});

test('t() fills placeholders and falls back to the key', () => {
  assert.equal(t('panel.other_corridor', { n: 3 }, 'en'), '3 vehicle(s) on the other corridor');
  assert.equal(t('no.such.key', undefined, 'en'), 'no.such.key');
});

test('localName picks the language variant', () => {
  const p = { name: 'Hải quan', name_en: 'Customs' };
  assert.equal(localName(p, 'vi'), 'Hải quan');
  assert.equal(localName(p, 'en'), 'Customs');
  assert.equal(localName({ name: 'Yard', name_vi: 'Bãi' }, 'vi'), 'Bãi');
  assert.equal(localName({ name: 'Yard', name_vi: 'Bãi' }, 'en'), 'Yard');
});

test('metres per pixel and lane width in pixels', () => {
  const mpp = metersPerPixel(21.97, 19);
  assert.ok(mpp > 0.27 && mpp < 0.28, String(mpp));
  assert.ok(Math.abs(widthToPixels(3.5, 21.97, 19) - 3.5 / mpp) < 1e-9);
  assert.equal(widthToPixels(3.5, 21.97, 12, 2), 2);
});

test('distance and route split at progress', () => {
  const line = [[106.71, 21.97], [106.71, 21.98], [106.72, 21.98]];
  const d1 = distanceM(line[0], line[1]);
  assert.ok(Math.abs(d1 - 1112) < 5, String(d1));
  const total = lineLengthM(line);
  const { done, todo, point } = splitLineAt(line, 0.25);
  assert.ok(Math.abs(lineLengthM(done) - total / 4) < 0.5);
  assert.ok(Math.abs(lineLengthM(todo) - (3 * total) / 4) < 0.5);
  assert.deepEqual(done.at(-1), point);
  assert.deepEqual(splitLineAt(line, 1).point, line[2]);
  assert.deepEqual(splitLineAt(line, -1).point, line[0]);
});

test('heading interpolation takes the short way round', () => {
  assert.equal(lerpAngleDeg(350, 10, 0.5), 0);
  assert.equal(lerpAngleDeg(10, 350, 0.5), 0);
  assert.equal(lerpAngleDeg(90, 180, 0.5), 135);
});

test('corridor bounds convert to Leaflet order', () => {
  assert.deepEqual(bboxToLatLngBounds([106.7, 21.9, 106.8, 22.0]), [[21.9, 106.7], [22.0, 106.8]]);
  assert.equal(bboxToLatLngBounds([1, 2]), null);
});

test('reconnect backoff grows and is capped', () => {
  const mid = () => 0.5;
  assert.equal(backoffDelay(0, mid), 1000);
  assert.equal(backoffDelay(1, mid), 2000);
  assert.equal(backoffDelay(3, mid), 8000);
  assert.equal(backoffDelay(10, mid), 15000);
  assert.ok(backoffDelay(2, () => 0) >= 3200 && backoffDelay(2, () => 1) <= 4800);
});

test('live URL follows the page origin', () => {
  assert.equal(liveUrl({ protocol: 'http:', host: 'localhost:8000' }), 'ws://localhost:8000/ws/live');
  assert.equal(liveUrl({ protocol: 'https:', host: 'gate.example' }), 'wss://gate.example/ws/live');
});

test('speed and goal label formatting', () => {
  assert.equal(formatSpeedKmh(6.9), '24.8');
  assert.equal(formatSpeedKmh(undefined), '–');
  const m = { goal: 'n1', goal_label: 'Handoff point', goal_label_vi: 'Điểm bàn giao' };
  assert.equal(goalLabel(m, 'vi'), 'Điểm bàn giao');
  assert.equal(goalLabel(m, 'en'), 'Handoff point');
  assert.equal(goalLabel({ goal: 'n1' }, 'en'), 'n1');
});
