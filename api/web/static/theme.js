// Colours and line styles of the map, shared by the map layers and the legend.
// Vehicle status colours live in app.css (--st-*) so list pills and markers match.

export const STATUSES = ['moving', 'holding', 'at_handoff', 'idle', 'paused', 'estopped', 'safe_stop', 'offline'];

/**
 * The state a controller cares about: the vehicle's own stop modes (e-stop, pause, safe stop)
 * win over the orchestrator's status, so an e-stopped vehicle never shows as "holding".
 */
export function displayState(v) {
  if (!v) return 'offline';
  if (v.status === 'offline') return 'offline';
  if (v.mode === 'estopped') return 'estopped';
  if (v.mode === 'paused') return 'paused';
  if (v.mode === 'safe_stop') return 'safe_stop';
  return STATUSES.includes(v.status) ? v.status : 'offline';
}

export const COLORS = {
  laneExport: '#38bdf8',
  laneImport: '#f472b6',
  laneTraditional: '#5b6675',
  connector: '#8aa4c8',
  zeroLine: '#ef4444',
  stopLine: '#f8fafc',
  route: '#fde047',
  routeDone: '#e2e8f0',
  plan: '#c4b5fd',
  reserved: '#fb923c',
  reservedHold: '#f59e0b',
  closed: '#ef4444',
};

export const ZONE_COLORS = {
  yard: '#3b82f6',
  yard_traditional: '#64748b',
  checkpoint: '#eab308',
  scanning: '#f97316',
  charging: '#22c55e',
  parking: '#94a3b8',
  handoff: '#ef4444',
  inspection: '#14b8a6',
  tunnel: '#b45309',
};

export const SPOT_COLORS = {
  loading: '#60a5fa',
  charging: '#4ade80',
  parking: '#cbd5e1',
  inspection: '#2dd4bf',
};

/** Zone style key: traditional-traffic yards are drawn muted. */
export function zoneKey(props) {
  if (props.kind === 'yard' && props.traffic === 'traditional') return 'yard_traditional';
  return props.kind in ZONE_COLORS ? props.kind : 'yard';
}

export function laneColor(props) {
  if (props.kind !== 'driverless') return COLORS.laneTraditional;
  return props.direction === 'import' ? COLORS.laneImport : COLORS.laneExport;
}

export function zoneStyle(props) {
  const key = zoneKey(props);
  const color = ZONE_COLORS[key];
  const handoff = key === 'handoff';
  return {
    color,
    weight: handoff ? 1.5 : 1,
    opacity: 0.85,
    dashArray: handoff ? '4 4' : null,
    fillColor: color,
    fillOpacity: handoff ? 0.22 : key === 'yard_traditional' ? 0.1 : 0.16,
  };
}
