// `tsrun spec --image SOURCE`: a config.json whose tsrun.layers is the image
// and whose process comes from the image config (Entrypoint + Cmd, Env,
// WorkingDir, User).  A user or group given by name is resolved through the
// image's /etc/passwd and /etc/group, read from the layers (top first) without
// unpacking anything into the store.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import type { Readable } from 'stream';
import { ConfigError } from '../errors';
import type { Spec, User } from '../spec/types';
import { imageConfigFor, parseLayerSource, resolveImage, type ImageSource } from './source';
import { TarReader } from './tarformat';
import { LayerError } from './unpack';

const clean = (p: string) => path.posix.normalize(p.replace(/^(\.?\/)+/, '')).replace(/\/+$/, '');

/** Files of one layer tar: Buffer = the file, null = deleted by a whiteout (or an opaque parent). */
function scanLayer(input: Readable, want: string[], label: string): Promise<Map<string, Buffer | null>> {
  return new Promise((resolve, reject) => {
    const found = new Map<string, Buffer | null>();
    const reader = new TarReader((e) => {
      const p = clean(e.path);
      const dir = path.posix.dirname(p);
      const base = path.posix.basename(p);
      for (const w of want) {
        if (found.has(w)) continue;
        if (base === '.wh..wh..opq' && (w.startsWith(`${dir}/`) || dir === '.')) found.set(w, null);
        else if (base.startsWith('.wh.') && path.posix.join(dir, base.slice(4)) === w) found.set(w, null);
      }
      if (!want.includes(p) || e.type !== 'file') return null;
      const parts: Buffer[] = [];
      return { data: (c) => parts.push(Buffer.from(c)), end: () => found.set(p, Buffer.concat(parts)) };
    });
    let first = true;
    let gunzip: zlib.Gunzip | undefined;
    let done = false;
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      input.destroy();
      reject(new LayerError(`image "${label}": ${e.message}`));
    };
    const feed = (c: Buffer) => {
      try {
        reader.write(c);
      } catch (e) {
        fail(e as Error);
      }
    };
    const end = () => {
      if (done) return;
      done = true;
      resolve(found);
    };
    input.on('error', fail);
    input.on('data', (c: Buffer) => {
      if (first) {
        first = false;
        if (c[0] === 0x1f && c[1] === 0x8b) {
          gunzip = zlib.createGunzip();
          gunzip.on('data', feed);
          gunzip.on('error', fail);
          gunzip.on('end', end);
        }
      }
      if (gunzip) gunzip.write(c);
      else feed(c);
    });
    input.on('end', () => (gunzip ? gunzip.end() : end()));
  });
}

/** Files of an image as its merged root shows them (top layer wins); missing ones are absent. */
export async function readImageFiles(src: ImageSource, files: string[]): Promise<Map<string, Buffer>> {
  const want = files.map(clean);
  const out = new Map<string, Buffer>();
  if (src.kind === 'dir') {
    for (const f of want) {
      try {
        out.set(f, fs.readFileSync(path.join(src.path, f)));
      } catch {
        /* absent */
      }
    }
    return out;
  }
  const decided = new Set<string>();
  const take = (m: Map<string, Buffer | null>) => {
    for (const [k, v] of m) {
      if (decided.has(k)) continue;
      decided.add(k);
      if (v) out.set(k, v);
    }
  };
  if (src.kind === 'tar') {
    take(await scanLayer(fs.createReadStream(src.path, { highWaterMark: 1 << 20 }), want, src.path));
    return out;
  }
  const img = resolveImage(src);
  try {
    for (const l of [...img.layers].reverse()) {
      const left = want.filter((w) => !decided.has(w));
      if (!left.length) break;
      take(await scanLayer(img.archive.stream(l.member), left, src.path));
    }
  } finally {
    img.archive.close();
  }
  return out;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(s: string | undefined): PasswdEntry[] {
  return (s ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3]))
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

function parseGroup(s: string | undefined): GroupEntry[] {
  return (s ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]))
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * The image's "user[:group]" as numbers: names looked up in the image's
 * /etc/passwd and /etc/group; a user alone takes its primary group from
 * /etc/passwd (0 when it has no entry), plus the groups that list it.
 * Returns the user and the HOME the passwd entry gives.
 */
export async function resolveImageUser(src: ImageSource, spec: string | undefined): Promise<{ user: User; home?: string }> {
  if (!spec) return { user: { uid: 0, gid: 0 }, home: '/root' };
  const c = spec.indexOf(':');
  const u = c < 0 ? spec : spec.slice(0, c);
  const g = c < 0 ? undefined : spec.slice(c + 1);
  if (!u || g === '') throw new ConfigError([`image user "${spec}": expected user[:group]`]);
  const files = await readImageFiles(src, ['etc/passwd', 'etc/group']);
  const passwd = parsePasswd(files.get('etc/passwd')?.toString('utf8'));
  const groups = parseGroup(files.get('etc/group')?.toString('utf8'));
  let pw: PasswdEntry | undefined;
  let uid: number;
  if (isNum(u)) {
    uid = Number(u);
    pw = passwd.find((p) => p.uid === uid);
  } else {
    pw = passwd.find((p) => p.name === u);
    if (!pw) throw new ConfigError([`image user "${spec}": no user "${u}" in the image's /etc/passwd`]);
    uid = pw.uid;
  }
  let gid: number;
  if (g === undefined) gid = pw?.gid ?? 0;
  else if (isNum(g)) gid = Number(g);
  else {
    const gr = groups.find((x) => x.name === g);
    if (!gr) throw new ConfigError([`image user "${spec}": no group "${g}" in the image's /etc/group`]);
    gid = gr.gid;
  }
  const user: User = { uid, gid };
  if (g === undefined && pw) {
    const extra = groups.filter((x) => x.members.includes(pw!.name) && x.gid !== gid).map((x) => x.gid);
    if (extra.length) user.additionalGids = [...new Set(extra)];
  }
  return { user, home: pw?.home ?? (uid === 0 ? '/root' : undefined) };
}

/** The "tsrun.layers" entry naming `abs` from the bundle: relative when inside the bundle. */
function layerEntry(abs: string, bundle: string, tag?: string): string {
  const rel = path.relative(bundle, abs);
  const p = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
  return tag ? `${p}:${tag}` : p;
}

/**
 * The spec for running `source` (a path, relative to the cwd, with an
 * optional ":tag") from `bundle`: `base` (the default spec) with tsrun.layers,
 * a writable root and the image's process.
 */
export async function specFromImage(source: string, bundle: string, base: Spec): Promise<Spec> {
  const src = parseLayerSource(source, process.cwd());
  if (!fs.existsSync(src.path)) throw new ConfigError([`spec --image: "${src.path}" does not exist`]);
  const ic = await imageConfigFor(src);
  const { user, home } = await resolveImageUser(src, ic.user);
  const env = [...ic.env];
  if (home && !env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${home}`);
  const spec: Spec = JSON.parse(JSON.stringify(base));
  spec.process = { ...spec.process!, terminal: false, user, args: ic.args, env, cwd: ic.cwd };
  spec.root = { path: 'rootfs', readonly: false };
  spec.tsrun = { ...(spec.tsrun ?? {}), layers: [layerEntry(src.path, path.resolve(bundle), src.tag)] };
  return spec;
}
