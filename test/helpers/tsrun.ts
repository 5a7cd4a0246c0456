// Helpers for integration tests: run the real CLI against a private --root,
// make bundles from the busybox rootfs, and clean everything up.
import { spawn, spawnSync, type SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Spec } from '../../src/spec/types';

/** The checkout: the nearest directory above this (bundled) test with a package.json. */
function findTop(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'native-shim'))) return d;
    if (path.dirname(d) === d) throw new Error(`no tsrun checkout above ${from}`);
  }
}

// build/test/x.test.js and build/test/integration/x.test.js are at different depths
export const TOP = findTop(__dirname);
export const TSRUN = path.join(TOP, 'bin', 'tsrun');
export const BUSYBOX_BUNDLE = path.join(TOP, 'bundles', 'busybox');
export const BUSYBOX_ROOTFS = path.join(BUSYBOX_BUNDLE, 'rootfs');
/** The busybox image (one deterministic layer tar) the default bundle runs on. */
export const BUSYBOX_IMAGE = path.join(BUSYBOX_BUNDLE, 'busybox.tar');

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function result(r: SpawnSyncReturns<string>): Result {
  return { code: r.status ?? 128 + (r.signal ? (os.constants.signals as Record<string, number>)[r.signal] : 0), stdout: r.stdout, stderr: r.stderr };
}

let asyncCalls = 0;

/** A private world for one test: its own --root and data dir, removed (with every container in it) by cleanup(). */
export class World {
  readonly dir: string;
  readonly root: string;
  readonly dataDir: string;

  constructor(name = 'tsrun-test') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
    this.root = path.join(this.dir, 'state');
    this.dataDir = path.join(this.dir, 'data');
  }

  /** The global flags every call gets (dataDir false: --root only, the command line the C front replays). */
  args(a: string[], o: { dataDir?: boolean } = {}): string[] {
    return o.dataDir === false ? ['--root', this.root, ...a] : ['--root', this.root, '--data-dir', this.dataDir, ...a];
  }

  /**
   * Runs tsrun synchronously.  Its stdout and stderr go to files, not pipes: a
   * detached container inherits them (as from runc), and a pipe would keep
   * spawnSync waiting for as long as the container lives.
   */
  tsrun(args: string[], opts: { input?: string; timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv; dataDir?: boolean } = {}): Result {
    const out = path.join(this.dir, `.out-${process.pid}`);
    const err = path.join(this.dir, `.err-${process.pid}`);
    const o = fs.openSync(out, 'w+');
    const e = fs.openSync(err, 'w+');
    try {
      const r = spawnSync(TSRUN, this.args(args, opts), {
        encoding: 'utf8',
        input: opts.input ?? '',
        timeout: opts.timeout ?? 30000,
        env: opts.env ? { ...env, ...opts.env } : env,
        cwd: opts.cwd,
        stdio: ['pipe', o, e],
      });
      return result({ ...r, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') });
    } finally {
      fs.closeSync(o);
      fs.closeSync(e);
      fs.rmSync(out, { force: true });
      fs.rmSync(err, { force: true });
    }
  }

  /** Runs tsrun and fails the test with its stderr unless it exits 0. */
  ok(args: string[], opts: { input?: string; timeout?: number; cwd?: string } = {}): string {
    const r = this.tsrun(args, opts);
    if (r.code !== 0) throw new Error(`tsrun ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs tsrun asynchronously, output to files as tsrun() (many can run at once). */
  tsrunAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Result> {
    const n = `${process.pid}-${++asyncCalls}`;
    const out = path.join(this.dir, `.out-${n}`);
    const err = path.join(this.dir, `.err-${n}`);
    const o = fs.openSync(out, 'w+');
    const e = fs.openSync(err, 'w+');
    const child = spawn(TSRUN, this.args(args), { env: opts.env ? { ...env, ...opts.env } : env, stdio: ['ignore', o, e] });
    fs.closeSync(o);
    fs.closeSync(e);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 60000);
    return new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const r = {
          code: code ?? 128 + (signal ? (os.constants.signals as Record<string, number>)[signal] : 0),
          stdout: fs.readFileSync(out, 'utf8'),
          stderr: fs.readFileSync(err, 'utf8'),
        };
        fs.rmSync(out, { force: true });
        fs.rmSync(err, { force: true });
        resolve(r);
      });
    });
  }

  /** Runs tsrun asynchronously (stdio captured). */
  spawn(args: string[], opts: { env?: NodeJS.ProcessEnv; dataDir?: boolean } = {}) {
    return spawn(TSRUN, this.args(args, opts), { env: opts.env ? { ...env, ...opts.env } : env, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  state(id: string): { status: string; pid: number; [k: string]: unknown } {
    return JSON.parse(this.ok(['state', id]));
  }

  /**
   * A bundle dir whose config.json is the busybox one changed by `edit`; no
   * layers: root.path is the shared busybox rootfs dir (fast; read-only use).
   */
  bundle(edit: (spec: any) => void = () => {}, name = 'bundle'): string {
    return this.writeBundle(name, (spec) => {
      delete spec.tsrun;
      spec.root.path = BUSYBOX_ROOTFS;
      edit(spec);
    });
  }

  /** A bundle on the busybox image (tsrun.layers): each container gets its own write layer in this world's data dir. */
  layered(edit: (spec: any) => void = () => {}, name = 'layered'): string {
    return this.writeBundle(name, (spec) => {
      spec.tsrun = { layers: [BUSYBOX_IMAGE] };
      spec.root = { path: 'rootfs', readonly: false };
      edit(spec);
    });
  }

  private writeBundle(name: string, edit: (spec: any) => void): string {
    const b = path.join(this.dir, name);
    fs.mkdirSync(b, { recursive: true });
    const spec = JSON.parse(fs.readFileSync(path.join(BUSYBOX_BUNDLE, 'config.json'), 'utf8'));
    edit(spec);
    fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec, null, 2));
    return b;
  }

  /** Every container in this world removed, then the directory. */
  /**
   * `sh -c script` in a fresh container (id: prefix + a counter) from the
   * busybox bundle changed by edit.  The rootfs is shared by every test, so
   * /tmp is a private tmpfs: whatever a script writes goes away.
   */
  runScript(prefix: string, edit: (s: Spec) => void, script: string): Result {
    const id = `${prefix}${++this.scripts}`;
    const b = this.bundle((s: Spec) => {
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
      edit(s);
    }, id);
    return this.tsrun(['run', '--bundle', b, id, 'sh', '-c', script]);
  }

  private scripts = 0;

  cleanup(): void {
    for (const id of fs.existsSync(this.root) ? fs.readdirSync(this.root) : []) {
      if (!id.startsWith('.')) this.tsrun(['delete', '--force', id]); // .replay: records, not containers
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll until f() is true. */
export async function waitFor(f: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
