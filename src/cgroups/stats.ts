// Container statistics in the shape of runc `events --stats` "data"
// (runc/types/events.go): cpu, memory, pids, blkio, hugetlb.  Zero values of
// Go `omitempty` fields are left out, as runc's JSON does.
import * as fs from 'fs';
import * as path from 'path';
import type { CgroupRecord } from './index';
import { readFile, readKeyValues, readNumber } from './fs';

const MAX_U64 = 18446744073709551615; // what runc reports for "max" (as a JSON number)
const join = path.join;

type Obj = Record<string, unknown>;

/** Drops keys whose value is 0/undefined/empty array (Go omitempty). */
function omit(o: Obj, keep: string[] = []): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (keep.includes(k)) {
      out[k] = v ?? 0;
      continue;
    }
    if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

const n = (v: number | undefined): number => (v === Number.MAX_SAFE_INTEGER ? MAX_U64 : v ?? 0);

function numList(file: string): number[] {
  const s = readFile(file);
  return s ? s.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Page sizes as runc names them ("2MB", "1GB"), from /sys/kernel/mm/hugepages. */
export function hugePageSizes(): string[] {
  try {
    return fs
      .readdirSync('/sys/kernel/mm/hugepages')
      .map((d) => /^hugepages-(\d+)kB$/.exec(d)?.[1])
      .filter((x): x is string => !!x)
      .map((kb) => {
        let v = Number(kb) * 1024;
        const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
        let i = 0;
        while (v >= 1024 && v % 1024 === 0 && i < units.length - 1) {
          v /= 1024;
          i++;
        }
        return `${v}${units[i]}`;
      });
  } catch {
    return [];
  }
}

function blkioV1(dir: string, file: string): Obj[] {
  const s = readFile(join(dir, file));
  if (!s) return [];
  const out: Obj[] = [];
  for (const line of s.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3) {
      const [maj, min] = f[0].split(':').map(Number);
      out.push(omit({ major: maj, minor: min, op: f[1], value: Number(f[2]) }));
    }
  }
  return out;
}

function v1Stats(rec: CgroupRecord): Obj {
  const p = rec.paths;
  const cpu: Obj = {};
  const acct = p.cpuacct;
  const usage: Obj = {};
  if (acct) {
    const st = readKeyValues(join(acct, 'cpuacct.stat'));
    const tick = 1e9 / 100; // USER_HZ
    Object.assign(usage, {
      total: readNumber(join(acct, 'cpuacct.usage')),
      percpu: numList(join(acct, 'cpuacct.usage_percpu')),
      percpu_kernel: numList(join(acct, 'cpuacct.usage_percpu_sys')),
      percpu_user: numList(join(acct, 'cpuacct.usage_percpu_user')),
      kernel: (st.system ?? 0) * tick,
      user: (st.user ?? 0) * tick,
    });
  }
  cpu.usage = omit(usage, ['kernel', 'user']);
  const thr = p.cpu ? readKeyValues(join(p.cpu, 'cpu.stat')) : {};
  cpu.throttling = omit({ periods: thr.nr_periods, throttledPeriods: thr.nr_throttled, throttledTime: thr.throttled_time });

  const memory: Obj = {};
  const m = p.memory;
  if (m) {
    const entry = (prefix: string): Obj =>
      omit(
        {
          limit: n(readNumber(join(m, `${prefix}.limit_in_bytes`))),
          usage: readNumber(join(m, `${prefix}.usage_in_bytes`)),
          max: readNumber(join(m, `${prefix}.max_usage_in_bytes`)),
          failcnt: readNumber(join(m, `${prefix}.failcnt`)),
        },
        ['limit', 'failcnt'],
      );
    const raw = readKeyValues(join(m, 'memory.stat'));
    Object.assign(memory, omit({ cache: raw.total_cache ?? raw.cache }));
    memory.usage = entry('memory');
    memory.swap = entry('memory.memsw');
    memory.kernel = entry('memory.kmem');
    memory.kernelTCP = entry('memory.kmem.tcp');
    if (Object.keys(raw).length) memory.raw = raw;
  }
  const pids = p.pids
    ? omit({ current: readNumber(join(p.pids, 'pids.current')), limit: ((l) => (l === Number.MAX_SAFE_INTEGER ? 0 : l))(readNumber(join(p.pids, 'pids.max'))) })
    : {};
  const blkio: Obj = {};
  if (p.blkio) {
    const pick = (a: string, b: string): Obj[] => {
      const x = blkioV1(p.blkio, a);
      return x.length ? x : blkioV1(p.blkio, b);
    };
    Object.assign(
      blkio,
      omit({
        ioServiceBytesRecursive: pick('blkio.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive'),
        ioServicedRecursive: pick('blkio.io_serviced_recursive', 'blkio.throttle.io_serviced_recursive'),
        ioQueueRecursive: blkioV1(p.blkio, 'blkio.io_queued_recursive'),
        ioServiceTimeRecursive: blkioV1(p.blkio, 'blkio.io_service_time_recursive'),
        ioWaitTimeRecursive: blkioV1(p.blkio, 'blkio.io_wait_time_recursive'),
        ioMergedRecursive: blkioV1(p.blkio, 'blkio.io_merged_recursive'),
        ioTimeRecursive: blkioV1(p.blkio, 'blkio.time_recursive'),
        sectorsRecursive: blkioV1(p.blkio, 'blkio.sectors_recursive'),
      }),
    );
  }
  const hugetlb: Obj = {};
  if (p.hugetlb) {
    for (const size of hugePageSizes()) {
      const b = join(p.hugetlb, `hugetlb.${size}.`);
      hugetlb[size] = omit(
        { usage: readNumber(b + 'usage_in_bytes'), max: readNumber(b + 'max_usage_in_bytes'), failcnt: readNumber(b + 'failcnt') },
        ['failcnt'],
      );
    }
  }
  return { cpu, memory, pids, blkio, hugetlb };
}

function v2Stats(dir: string): Obj {
  const cs = readKeyValues(join(dir, 'cpu.stat'));
  const cpu: Obj = {
    usage: omit({ total: (cs.usage_usec ?? 0) * 1000, kernel: (cs.system_usec ?? 0) * 1000, user: (cs.user_usec ?? 0) * 1000 }, [
      'kernel',
      'user',
    ]),
    throttling: omit({ periods: cs.nr_periods, throttledPeriods: cs.nr_throttled, throttledTime: (cs.throttled_usec ?? 0) * 1000 }),
  };
  const memory: Obj = {};
  const raw = readKeyValues(join(dir, 'memory.stat'));
  const cur = readNumber(join(dir, 'memory.current'));
  if (cur !== undefined) {
    const ev = readKeyValues(join(dir, 'memory.events'));
    const limit = n(readNumber(join(dir, 'memory.max')));
    Object.assign(memory, omit({ cache: raw.file }));
    memory.usage = omit({ limit, usage: cur, max: readNumber(join(dir, 'memory.peak')), failcnt: ev.max }, ['limit', 'failcnt']);
    const swapCur = readNumber(join(dir, 'memory.swap.current'));
    if (swapCur !== undefined) {
      // runc reports memory+swap here, for compatibility with v1 memsw
      const swapMax = readNumber(join(dir, 'memory.swap.max'));
      const both = swapMax === undefined || swapMax === Number.MAX_SAFE_INTEGER || limit === MAX_U64 ? MAX_U64 : limit + swapMax;
      memory.swap = omit({ limit: both, usage: swapCur + cur, failcnt: readKeyValues(join(dir, 'memory.swap.events')).max }, [
        'limit',
        'failcnt',
      ]);
    } else memory.swap = { limit: 0, failcnt: 0 };
    memory.kernel = { limit: 0, failcnt: 0 };
    memory.kernelTCP = { limit: 0, failcnt: 0 };
    if (Object.keys(raw).length) memory.raw = raw;
  }
  const pidsMax = readNumber(join(dir, 'pids.max'));
  const pids = omit({ current: readNumber(join(dir, 'pids.current')), limit: pidsMax === Number.MAX_SAFE_INTEGER ? 0 : pidsMax });
  const blkio: Obj = {};
  const io = readFile(join(dir, 'io.stat'));
  if (io) {
    const bytes: Obj[] = [];
    const ios: Obj[] = [];
    for (const line of io.split('\n')) {
      const [dev, ...kvs] = line.trim().split(/\s+/);
      const [major, minor] = dev.split(':').map(Number);
      const kv = Object.fromEntries(kvs.map((x) => x.split('=')).map(([k, v]) => [k, Number(v)]));
      for (const [key, op, list] of [
        ['rbytes', 'Read', bytes],
        ['wbytes', 'Write', bytes],
        ['rios', 'Read', ios],
        ['wios', 'Write', ios],
      ] as Array<[string, string, Obj[]]>) {
        if (kv[key] !== undefined) list.push(omit({ major, minor, op, value: kv[key] }));
      }
    }
    Object.assign(blkio, omit({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios }));
  }
  const hugetlb: Obj = {};
  for (const size of hugePageSizes()) {
    const cur2 = readNumber(join(dir, `hugetlb.${size}.current`));
    if (cur2 === undefined) continue;
    hugetlb[size] = omit({ usage: cur2, failcnt: readKeyValues(join(dir, `hugetlb.${size}.events`)).max }, ['failcnt']);
  }
  return { cpu, memory, pids, blkio, hugetlb };
}

export function collectStats(rec: CgroupRecord): object {
  if (rec.mode === 'v2') return v2Stats(rec.paths.unified);
  return v1Stats(rec);
}
