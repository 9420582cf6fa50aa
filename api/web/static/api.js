// REST client for the smartgate API (same origin).

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

export const api = {
  corridors: () => getJson('/api/v1/corridors'),
  corridorMap: (id) => getJson(`/api/v1/corridors/${encodeURIComponent(id)}/map`),
  vehicles: () => getJson('/api/v1/vehicles'),
};
