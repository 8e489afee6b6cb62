// Is a /24 free on this machine? Pure: takes the output of `ip -4 -j route show` as data. A host's
// subnet must not overlap any route the machine already has, or sandbox traffic could shadow (or
// be shadowed by) a real network.

export interface Route {
  dst: string;
  dev?: string;
}

/** [first, last] address of a CIDR as 32-bit numbers; a bare address is a /32. */
export function cidrRange(cidr: string): [number, number] | undefined {
  const [address, bitsText = '32'] = cidr.split('/');
  const octets = (address ?? '').split('.');
  if (octets.length !== 4 || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const values = octets.map(Number);
  if (values.some((value) => !Number.isInteger(value) || value < 0 || value > 255)) {
    return undefined;
  }
  const bits = Number(bitsText);
  if (bits > 32) return undefined;
  const base = values.reduce((sum, value) => sum * 256 + value, 0);
  const size = 2 ** (32 - bits);
  const first = base - (base % size);
  return [first, first + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const x = cidrRange(a);
  const y = cidrRange(b);
  if (!x || !y) return false;
  return x[0] <= y[1] && y[0] <= x[1];
}

/** `ip -j route show` output -> routes; the default route covers everything, so it is skipped. */
export function parseRoutes(json: string): Route[] {
  const data: unknown = JSON.parse(json || '[]');
  if (!Array.isArray(data)) return [];
  return data
    .filter(
      (entry): entry is Route =>
        typeof entry === 'object' && entry !== null && typeof entry.dst === 'string',
    )
    .filter((route) => route.dst !== 'default')
    .map((route) => ({ dst: route.dst, ...(route.dev ? { dev: route.dev } : {}) }));
}

export function conflictingRoute(routes: readonly Route[], cidr: string): Route | undefined {
  return routes.find((route) => overlaps(route.dst, cidr));
}
