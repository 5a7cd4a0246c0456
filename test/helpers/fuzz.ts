// Deterministic config mutations for the fuzz tests: wrong types, huge
// numbers, unknown enum values, deep nesting, enormous arrays, broken
// strings (lone surrogates, NULs, control characters), duplicate and
// hostile mounts, removed keys.

/** mulberry32: a small seeded PRNG, so a failing case can be replayed by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)];
}

const NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308, -1e308, 0.5, -0.0, 4294967295, 65536, 1e21];
const STRINGS = [
  '',
  'x',
  'a'.repeat(70000),
  '\ud800', // lone surrogate: invalid UTF-16, not encodable as UTF-8
  '\udfff\ud800',
  'a\u0000b',
  '\u0001\u001f\u007f',
  '../../../../etc/passwd',
  '/proc/self/root',
  '/',
  'nonexistent-enum-value',
  'CAP_NOPE',
  'SCMP_ACT_NOPE',
  '%s%s%n',
  '-1',
  '1e999',
  '\u202e\u0301',
  'ünïcödé',
  'rbind',
  'bind',
];

function deep(depth: number, arr: boolean): Json {
  let v: Json = 'leaf';
  for (let i = 0; i < depth; i++) v = arr ? [v] : { k: v };
  return v;
}

/** A value of a random kind (the "wrong type" for most places). */
export function randomValue(r: () => number): Json {
  switch (Math.floor(r() * 9)) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, NUMBERS);
    case 3:
      return pick(r, STRINGS);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return deep(50 + Math.floor(r() * 2000), r() < 0.5);
    case 7:
      return Array.from({ length: 1000 + Math.floor(r() * 20000) }, () => pick(r, ['x', 1, null, {}]));
    default:
      return [pick(r, STRINGS), pick(r, NUMBERS)];
  }
}

/** Every path to a value in v (objects and arrays), with the root as []. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (prefix.length >= 10) return out; // not into the deep nests and huge arrays made before
  if (Array.isArray(v)) v.slice(0, 40).forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...prefix, k], out);
  return out;
}

function get(v: Json, p: (string | number)[]): Json {
  let cur: any = v;
  for (const k of p) cur = cur?.[k];
  return cur;
}

function set(v: Json, p: (string | number)[], val: Json | undefined): void {
  if (!p.length) return;
  let cur: any = v;
  for (const k of p.slice(0, -1)) cur = cur[k];
  const last = p[p.length - 1];
  if (val === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = val;
}

/** One to four mutations of a deep copy of base; returns it and what was done. */
export function mutate(base: Json, r: () => number): { spec: any; what: string[] } {
  const spec = JSON.parse(JSON.stringify(base));
  const what: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const all = paths(spec).filter((p) => p.length > 0);
    const p = pick(r, all);
    const cur = get(spec, p);
    const kind = Math.floor(r() * 10);
    const where = '/' + p.join('/');
    if (kind === 0) {
      set(spec, p, undefined);
      what.push(`delete ${where}`);
    } else if (kind === 1 && typeof cur === 'number') {
      const v = pick(r, NUMBERS);
      set(spec, p, v);
      what.push(`${where} = ${v}`);
    } else if (kind === 2 && typeof cur === 'string') {
      const v = pick(r, STRINGS);
      set(spec, p, v);
      what.push(`${where} = ${JSON.stringify(v.slice(0, 20))}`);
    } else if (kind === 3 && Array.isArray(cur) && cur.length) {
      // duplicates: the same element many times (duplicate mounts, namespaces, rules...)
      const times = 2 + Math.floor(r() * (r() < 0.1 ? 5000 : 5));
      const el = cur[Math.floor(r() * cur.length)];
      for (let k = 0; k < times; k++) cur.push(JSON.parse(JSON.stringify(el)));
      what.push(`${where} += ${times} duplicates`);
    } else if (kind === 4 && cur && typeof cur === 'object' && !Array.isArray(cur)) {
      const key = pick(r, ['unknownKey', 'type', 'path', 'destination', 'options', 'args', '__proto__', 'constructor']);
      const v = randomValue(r);
      cur[key] = v;
      what.push(`${where}/${key} = <${Array.isArray(v) ? 'array' : typeof v}>`);
    } else {
      const v = randomValue(r);
      set(spec, p, v);
      what.push(`${where} = <${v === null ? 'null' : Array.isArray(v) ? `array ${v.length}` : typeof v}>`);
    }
  }
  return { spec, what };
}
