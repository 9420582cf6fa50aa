// All user-visible strings of the live map, in one place.
// Vietnamese is the default; English is the second language.
// Keys are stable: the UI looks them up with t('key') or data-i18n="key".

export const LANGS = ['vi', 'en'];
export const DEFAULT_LANG = 'vi';
const STORAGE_KEY = 'smartgate.lang';

export const STRINGS = {
  vi: {
    'app.title': 'Smartgate — Giám sát xe dẫn đường thông minh',
    'app.brand': 'SMARTGATE',
    'app.subtitle': 'Giám sát đội xe dẫn đường thông minh',
    'lang.toggle': 'EN',
    'lang.toggle_title': 'Switch to English',
    'corridor.label': 'Tuyến',
    'corridor.loading': 'Đang tải…',
    'corridor.fit': 'Xem toàn tuyến',

    'kpi.total': 'Tổng số xe',
    'kpi.moving': 'Đang di chuyển',
    'kpi.holding': 'Đang dừng chờ',
    'kpi.at_handoff': 'Chờ bàn giao',
    'kpi.offline': 'Mất kết nối',
    'clock.vn': 'Giờ VN',
    'clock.cn': 'Giờ TQ',

    'conn.connecting': 'Đang kết nối…',
    'conn.live': 'Trực tuyến',
    'conn.reconnecting': 'Đang kết nối lại…',
    'conn.reconnecting_in': 'Mất kết nối · thử kết nối lại sau {s} giây',
    'conn.title': 'Kết nối dữ liệu thời gian thực',

    'status.idle': 'Sẵn sàng',
    'status.moving': 'Đang di chuyển',
    'status.holding': 'Đang dừng chờ',
    'status.at_handoff': 'Chờ bàn giao',
    'status.offline': 'Mất kết nối',

    'panel.vehicles': 'Đội xe dẫn đường',
    'panel.empty': 'Chưa có xe nào trên tuyến này.',
    'panel.loading': 'Đang tải dữ liệu xe…',
    'panel.other_corridor': '{n} xe đang ở tuyến khác',

    'vehicle.speed': 'Tốc độ',
    'vehicle.lane': 'Làn',
    'vehicle.no_lane': 'Ngoài làn',
    'vehicle.mission': 'Nhiệm vụ',
    'vehicle.no_mission': 'Không có nhiệm vụ',
    'vehicle.goal': 'Đích đến',
    'vehicle.progress': 'Tiến độ',
    'vehicle.heading': 'Hướng',
    'vehicle.updated': 'Cập nhật',
    'vehicle.ago_s': '{s} giây trước',
    'vehicle.ago_m': '{m} phút trước',
    'vehicle.follow': 'Bám theo xe',
    'vehicle.route': 'Lộ trình dự kiến',
    'vehicle.route_done': 'Đoạn đã đi',
    'unit.kmh': 'km/h',
    'unit.m': 'm',

    'legend.title': 'Chú giải',
    'legend.lanes': 'Làn đường',
    'legend.zones': 'Khu vực',
    'legend.vehicles': 'Xe dẫn đường',
    'legend.lane_export': 'Làn dành riêng xe tự hành · xuất khẩu',
    'legend.lane_import': 'Làn dành riêng xe tự hành · nhập khẩu',
    'legend.lane_traditional': 'Làn xe truyền thống',
    'legend.connector': 'Đường nối trong bãi',
    'legend.zero_line': 'Đường biên giới (km 0)',
    'legend.stop_line': 'Vạch dừng',
    'legend.marker': 'Cột mốc biên giới',
    'legend.spot': 'Vị trí xếp dỡ / sạc / đỗ',
    'legend.route': 'Lộ trình xe đang chọn',

    'lane.kind.driverless': 'Làn dành riêng xe tự hành',
    'lane.kind.traditional': 'Làn xe truyền thống',
    'lane.direction.export': 'Xuất khẩu',
    'lane.direction.import': 'Nhập khẩu',
    'lane.speed_limit': 'Tốc độ tối đa',
    'lane.width': 'Bề rộng',

    'zone.yard': 'Bãi xe',
    'zone.yard_traditional': 'Bãi xe truyền thống',
    'zone.checkpoint': 'Trạm kiểm soát',
    'zone.scanning': 'Khu soi chiếu',
    'zone.charging': 'Khu sạc điện',
    'zone.parking': 'Bãi đỗ',
    'zone.handoff': 'Vùng bàn giao',
    'zone.inspection': 'Khu kiểm hóa',
    'zone.tunnel': 'Hầm',

    'spot.loading': 'Điểm xếp dỡ',
    'spot.charging': 'Điểm sạc',
    'spot.parking': 'Chỗ đỗ',
    'spot.inspection': 'Điểm kiểm hóa',

    'stop.zero_line': 'Vạch dừng trước đường biên giới',
    'stop.checkpoint': 'Vạch dừng kiểm soát',
    'stop.yard_exit': 'Vạch dừng cửa ra bãi',
    'stop.other': 'Vạch dừng',

    'marker.label': 'Cột mốc {n}',
    'side.VN': 'VIỆT NAM',
    'side.CN': 'TRUNG QUỐC',
    'connector.label': 'Đường nối trong bãi',

    'error.corridors': 'Không tải được danh sách tuyến.',
    'error.map': 'Không tải được bản đồ tuyến.',
  },

  en: {
    'app.title': 'Smartgate — Smart guide vehicle monitor',
    'app.brand': 'SMARTGATE',
    'app.subtitle': 'Smart guide vehicle fleet monitor',
    'lang.toggle': 'VI',
    'lang.toggle_title': 'Chuyển sang tiếng Việt',
    'corridor.label': 'Corridor',
    'corridor.loading': 'Loading…',
    'corridor.fit': 'Show whole corridor',

    'kpi.total': 'Vehicles',
    'kpi.moving': 'Moving',
    'kpi.holding': 'Holding',
    'kpi.at_handoff': 'At handoff',
    'kpi.offline': 'Offline',
    'clock.vn': 'VN time',
    'clock.cn': 'CN time',

    'conn.connecting': 'Connecting…',
    'conn.live': 'Live',
    'conn.reconnecting': 'Reconnecting…',
    'conn.reconnecting_in': 'Disconnected · retry in {s} s',
    'conn.title': 'Real-time data connection',

    'status.idle': 'Idle',
    'status.moving': 'Moving',
    'status.holding': 'Holding',
    'status.at_handoff': 'At handoff',
    'status.offline': 'Offline',

    'panel.vehicles': 'Guide vehicle fleet',
    'panel.empty': 'No vehicles on this corridor.',
    'panel.loading': 'Loading vehicles…',
    'panel.other_corridor': '{n} vehicle(s) on the other corridor',

    'vehicle.speed': 'Speed',
    'vehicle.lane': 'Lane',
    'vehicle.no_lane': 'Off lane',
    'vehicle.mission': 'Mission',
    'vehicle.no_mission': 'No mission',
    'vehicle.goal': 'Goal',
    'vehicle.progress': 'Progress',
    'vehicle.heading': 'Heading',
    'vehicle.updated': 'Updated',
    'vehicle.ago_s': '{s} s ago',
    'vehicle.ago_m': '{m} min ago',
    'vehicle.follow': 'Follow vehicle',
    'vehicle.route': 'Planned route',
    'vehicle.route_done': 'Travelled',
    'unit.kmh': 'km/h',
    'unit.m': 'm',

    'legend.title': 'Legend',
    'legend.lanes': 'Lanes',
    'legend.zones': 'Zones',
    'legend.vehicles': 'Guide vehicles',
    'legend.lane_export': 'Reserved driverless lane · export',
    'legend.lane_import': 'Reserved driverless lane · import',
    'legend.lane_traditional': 'Traditional truck lane',
    'legend.connector': 'Yard connector',
    'legend.zero_line': 'Boundary line (km 0)',
    'legend.stop_line': 'Stop line',
    'legend.marker': 'Border marker',
    'legend.spot': 'Loading / charging / parking spot',
    'legend.route': 'Selected vehicle route',

    'lane.kind.driverless': 'Reserved driverless lane',
    'lane.kind.traditional': 'Traditional truck lane',
    'lane.direction.export': 'Export',
    'lane.direction.import': 'Import',
    'lane.speed_limit': 'Speed limit',
    'lane.width': 'Width',

    'zone.yard': 'Yard',
    'zone.yard_traditional': 'Traditional truck yard',
    'zone.checkpoint': 'Checkpoint',
    'zone.scanning': 'Scanning',
    'zone.charging': 'Charging',
    'zone.parking': 'Parking',
    'zone.handoff': 'Handoff zone',
    'zone.inspection': 'Inspection',
    'zone.tunnel': 'Tunnel',

    'spot.loading': 'Loading spot',
    'spot.charging': 'Charging spot',
    'spot.parking': 'Parking spot',
    'spot.inspection': 'Inspection spot',

    'stop.zero_line': 'Stop line before the boundary',
    'stop.checkpoint': 'Checkpoint stop line',
    'stop.yard_exit': 'Yard exit stop line',
    'stop.other': 'Stop line',

    'marker.label': 'Marker {n}',
    'side.VN': 'VIET NAM',
    'side.CN': 'CHINA',
    'connector.label': 'Yard connector',

    'error.corridors': 'Could not load the corridor list.',
    'error.map': 'Could not load the corridor map.',
  },
};

let current = DEFAULT_LANG;
const listeners = new Set();

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Language saved by the user, or the default (Vietnamese). */
export function initialLang() {
  const saved = storage()?.getItem(STORAGE_KEY);
  return LANGS.includes(saved) ? saved : DEFAULT_LANG;
}

export function getLang() {
  return current;
}

/** Translate `key`, filling {name} placeholders from `vars`. Unknown keys show as the key. */
export function t(key, vars = undefined, lang = current) {
  let s = STRINGS[lang]?.[key] ?? STRINGS[DEFAULT_LANG][key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/**
 * Pick a localized name from feature/corridor properties.
 * Vietnamese: name_vi, then name. English: name_en, then name.
 */
export function localName(props, lang = current) {
  if (!props) return '';
  if (lang === 'en') return props.name_en || props.name || '';
  return props.name_vi || props.name || props.name_en || '';
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Switch language, remember it, update <html lang> and every [data-i18n] element. */
export function setLang(lang) {
  if (!LANGS.includes(lang)) lang = DEFAULT_LANG;
  current = lang;
  storage()?.setItem(STORAGE_KEY, lang);
  if (globalThis.document) {
    document.documentElement.lang = lang;
    applyTranslations(document);
  }
  for (const fn of listeners) fn(lang);
}

/** Fill text and attributes of elements marked with data-i18n / data-i18n-title / data-i18n-aria-label. */
export function applyTranslations(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  if (root.title !== undefined && root === globalThis.document) root.title = t('app.title');
}
