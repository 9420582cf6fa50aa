// Map legend as a Leaflet control (#map-legend), rebuilt when the language changes.

import { t } from './i18n.js';
import { COLORS, ZONE_COLORS, STATUSES } from './theme.js';

const L = globalThis.L;
const OPEN_KEY = 'smartgate.legend.open';

function line(color, { width = 4, dash = '', glow = false } = {}) {
  const g = glow
    ? `<line x1="2" y1="7" x2="30" y2="7" stroke="${color}" stroke-width="${width + 6}" stroke-opacity=".2" stroke-linecap="round"/>`
    : '';
  return `<svg width="32" height="14" aria-hidden="true">${g}<line x1="2" y1="7" x2="30" y2="7" stroke="${color}" stroke-width="${width}" ${dash ? `stroke-dasharray="${dash}"` : ''} stroke-linecap="${dash ? 'butt' : 'round'}"/></svg>`;
}

function swatch(color) {
  return `<svg width="32" height="14" aria-hidden="true"><rect x="6" y="1" width="20" height="12" rx="2" fill="${color}" fill-opacity=".3" stroke="${color}"/></svg>`;
}

function item(sym, label, key) {
  return `<li data-legend="${key}">${sym}<span>${label}</span></li>`;
}

function content() {
  const lanes = [
    item(line(COLORS.laneExport, { glow: true }), t('legend.lane_export'), 'lane-export'),
    item(line(COLORS.laneImport, { glow: true }), t('legend.lane_import'), 'lane-import'),
    item(line(COLORS.laneTraditional, { width: 2 }), t('legend.lane_traditional'), 'lane-traditional'),
    item(line(COLORS.connector, { width: 2 }), t('legend.connector'), 'connector'),
    item(line(COLORS.zeroLine, { width: 3, dash: '6 4' }), t('legend.zero_line'), 'zero-line'),
    item(line(COLORS.stopLine, { width: 3 }).replace('x1="2"', 'x1="12"').replace('x2="30"', 'x2="20"'), t('legend.stop_line'), 'stop-line'),
    item('<span class="lg-marker"><i></i></span>', t('legend.marker'), 'marker'),
    item(line(COLORS.route, { width: 3, dash: '6 4' }), t('legend.route'), 'route'),
    item(line(COLORS.plan, { width: 2, dash: '4 4' }), t('legend.plan'), 'plan'),
    item(line(COLORS.reserved, { width: 6 }), t('legend.reserved'), 'reserved'),
    item(line(COLORS.closed, { width: 6, dash: '3 5' }), t('legend.closed'), 'closed'),
  ];
  const zones = ['yard', 'checkpoint', 'scanning', 'inspection', 'charging', 'parking', 'handoff', 'tunnel'].map((k) =>
    item(swatch(ZONE_COLORS[k]), t(`zone.${k}`), `zone-${k}`),
  );
  const vehicles = STATUSES.map((s) =>
    item(`<span class="lg-veh" data-state="${s}"><svg viewBox="-16 -16 32 32" width="18" height="18"><path class="veh-shape" d="M0,-12 L9,9 L0,4.5 L-9,9 Z"/></svg></span>`, t(`status.${s}`), `status-${s}`),
  );
  return (
    `<h4>${t('legend.lanes')}</h4><ul>${lanes.join('')}</ul>` +
    `<h4>${t('legend.zones')}</h4><ul class="cols">${zones.join('')}</ul>` +
    `<h4>${t('legend.vehicles')}</h4><ul class="cols">${vehicles.join('')}</ul>`
  );
}

function storedOpen() {
  try {
    const v = localStorage.getItem(OPEN_KEY);
    if (v != null) return v === '1';
  } catch {
    // ignore
  }
  return window.innerHeight >= 900;
}

export function createLegend(map) {
  const Legend = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd() {
      const div = L.DomUtil.create('details', 'map-legend');
      div.id = 'map-legend';
      div.open = storedOpen();
      div.addEventListener('toggle', () => {
        try {
          localStorage.setItem(OPEN_KEY, div.open ? '1' : '0');
        } catch {
          // ignore
        }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      this._div = div;
      this.relabel();
      return div;
    },
    relabel() {
      if (!this._div) return;
      this._div.innerHTML = `<summary>${t('legend.title')}</summary><div class="legend-body">${content()}</div>`;
    },
  });
  const ctl = new Legend();
  ctl.addTo(map);
  return ctl;
}
