// Helpers for the client tests (podman through conmon, containerd through
// containerd-shim-runc-v2) with tsrun as their runtime.  They follow the
// team recipes in shared/clients/ (setup-podman.sh, setup-containerd.sh,
// teardown-containerd.sh, cleanup-host.sh), but keep every piece of state in
// a temp dir of the test and undo, at the end, only what the test made on the
// host.  The rootfs and OCI-archive scripts are copied in test/fixtures/clients.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TOP, TSRUN, waitFor, type Result } from './tsrun';

export const FIXTURES = path.join(TOP, 'test', 'fixtures', 'clients');
export const IMAGE = 'localhost/busybox:latest';

const baseEnv: NodeJS.ProcessEnv = { ...process.env };
delete baseEnv.NODE_EXTRA_CA_CERTS;

export function sh(
  cmd: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number; stdio?: any[]; cwd?: string } = {},
): Result {
  const r = spawnSync(cmd, args, {
    cwd: o.cwd,
    encoding: 'utf8',
    input: o.input ?? '',
    timeout: o.timeout ?? 60000,
    env: { ...baseEnv, ...o.env },
    stdio: o.stdio as any,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { code: r.status ?? 128 + (r.signal ? os.constants.signals[r.signal] : 0), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function okOrThrow(what: string, r: Result): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/**
 * Installs the Debian packages that are missing (apt-get, as the recipes do).
 * Returns undefined when all are there, else why they cannot be had (the
 * caller skips with that message).
 */
export function ensurePackages(pkgs: string[]): string | undefined {
  const missing = pkgs.filter((p) => sh('dpkg', ['-s', p]).code !== 0);
  if (!missing.length) return undefined;
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const upd = sh('apt-get', ['update', '-qq'], { env, timeout: 300000 });
  const inst =
    upd.code === 0
      ? sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeout: 600000 })
      : upd;
  if (inst.code !== 0) return `apt-get cannot install ${missing.join(' ')}: ${inst.stderr.trim().split('\n').slice(-2).join(' ')}`;
  const still = missing.filter((p) => sh('dpkg', ['-s', p]).code !== 0);
  return still.length ? `apt-get did not install ${still.join(' ')}` : undefined;
}

/** Host paths a client may create outside its temp dir; removed at the end only if they did not exist before. */
export class HostLeftovers {
  private readonly before = new Map<string, boolean>();
  private readonly cgroupTops: string[];

  constructor(
    private readonly dirs: string[],
    cgroupTops: string[],
  ) {
    for (const d of dirs) this.before.set(d, fs.existsSync(d));
    this.cgroupTops = cgroupTops;
    for (const c of cgroupControllers()) for (const t of cgroupTops) this.before.set(path.join(c, t), fs.existsSync(path.join(c, t)));
  }

  /** rmdir (depth first) the cgroup trees the client made; rm -rf its host dirs unless something is mounted there. */
  clean(): void {
    const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    for (const d of this.dirs) {
      if (this.before.get(d) || !fs.existsSync(d)) continue;
      if (mountinfo.includes(` ${d}/`) || mountinfo.includes(` ${d} `)) continue;
      fs.rmSync(d, { recursive: true, force: true });
    }
    for (const c of cgroupControllers()) {
      for (const t of this.cgroupTops) {
        const top = path.join(c, t);
        if (this.before.get(top)) continue;
        rmdirTree(top);
      }
    }
  }
}

export function cgroupControllers(): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync('/sys/fs/cgroup')) {
    const p = path.join('/sys/fs/cgroup', e);
    if (fs.existsSync(path.join(p, 'cgroup.procs'))) out.push(p);
  }
  if (fs.existsSync('/sys/fs/cgroup/cgroup.procs')) out.push('/sys/fs/cgroup');
  return out;
}

export function rmdirTree(d: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(d, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(d, e.name));
  try {
    fs.rmdirSync(d);
  } catch {
    /* still in use: the leak check reports it */
  }
}

/** Unmounts (lazily, deepest first) whatever is still mounted under dir. */
export function umountUnder(dir: string): void {
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + '/')))
    .sort()
    .reverse();
  for (const m of points) sh('umount', ['-l', m]);
}

/** Pids of the processes whose command line mentions dir (conmon, shims, exit commands of this test). */
function processesMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(dir)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Waits (up to timeoutMs) for the processes a client started for this test
 * to end (conmon runs "podman container cleanup" after the container exits;
 * a shim exits after its last task is deleted), then SIGKILLs what is left.
 */
function reapClientProcesses(dir: string, timeoutMs = 10000): void {
  const end = Date.now() + timeoutMs;
  let pids = processesMentioning(dir);
  while (pids.length && Date.now() < end) {
    spawnSync('sleep', ['0.1']);
    pids = processesMentioning(dir);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** The busybox rootfs tarball (make-rootfs.sh) in dir. */
function makeRootfsTar(dir: string): string {
  const tar = path.join(dir, 'rootfs.tar');
  if (!fs.existsSync(tar)) okOrThrow('make-rootfs.sh', sh('sh', [path.join(FIXTURES, 'make-rootfs.sh'), path.join(dir, 'rootfs')]));
  return tar;
}

// ---------------------------------------------------------------- podman ----

export const PODMAN_PACKAGES = [
  'podman',
  'conmon',
  'runc',
  'catatonit',
  'containernetworking-plugins',
  'golang-github-containers-common',
  'iptables',
  'busybox-static',
  'tmux',
];

/** A private rootful podman (setup-podman.sh) whose runtime is tsrun. */
/**
 * podman's private config under P (storage.conf, containers.conf): cgroupfs
 * (no systemd), file events, tsrun among the runtimes given --log-format json;
 * the parts given are added to their sections.  Returns the environment that
 * points podman at it.
 */
export function writePodmanConfig(
  P: string,
  add: { storage: string; containers?: string; engine?: string; runtimes?: string },
): { CONTAINERS_CONF: string; CONTAINERS_STORAGE_CONF: string } {
  fs.writeFileSync(path.join(P, 'storage.conf'), `[storage]\ndriver = "overlay"\n${add.storage}\n`);
  fs.writeFileSync(
    path.join(P, 'containers.conf'),
    `[containers]
log_driver = "k8s-file"
${add.containers ?? ''}

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${P}/events.log"
tmp_dir = "${P}/tmp"
volume_path = "${P}/volumes"
static_dir = "${P}/storage/libpod"
conmon_path = ["/usr/bin/conmon"]
${add.engine ?? ''}
# podman passes "--log-format=json --log FILE" only to runtimes whose basename is here
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "tsrun"]

${add.runtimes ?? ''}
`,
  );
  return { CONTAINERS_CONF: path.join(P, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(P, 'storage.conf') };
}

export class Podman {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly host: HostLeftovers;

  private constructor(dir: string) {
    this.dir = dir;
    const P = path.join(dir, 'podman');
    fs.mkdirSync(P, { recursive: true });
    // conmon's exit command (podman container cleanup) and podman's default
    // store paths may be created on the host: remember what was there
    this.host = new HostLeftovers(
      ['/run/tsrun', '/run/libpod', '/run/containers', '/var/lib/containers', '/run/netns'],
      ['libpod_parent'],
    );
    // no CAP_SYS_RESOURCE: the container rlimits may not exceed the hard limits (see setup-podman.sh)
    const hardNofile = sh('bash', ['-c', 'ulimit -Hn']).stdout.trim();
    const hardNproc = sh('bash', ['-c', 'ulimit -Hu']).stdout.trim();
    const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const nofile = hardNofile === 'unlimited' ? 1048576 : Number(hardNofile);
    const nproc = Math.min(hardNproc === 'unlimited' ? pidMax : Number(hardNproc), pidMax);
    this.env = writePodmanConfig(P, {
      storage: `runroot = "${P}/run"\ngraphroot = "${P}/storage"`,
      containers: `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      engine: 'runtime = "tsrun"',
      runtimes: `[engine.runtimes]\ntsrun = ["${TSRUN}"]`,
    });
  }

  /** Installs what is missing, writes the config, imports the busybox image.  A string: why the test must be skipped. */
  static setup(): Podman | string {
    const why = ensurePackages(PODMAN_PACKAGES);
    if (why) return why;
    const p = new Podman(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-podman-')));
    try {
      okOrThrow('podman import', p.podman(['import', '--change', 'CMD ["/bin/sh"]', makeRootfsTar(p.dir), IMAGE]));
    } catch (e) {
      p.teardown();
      throw e;
    }
    return p;
  }

  /** podman --runtime <repo>/bin/tsrun ARGS */
  podman(args: string[], o: { input?: string; timeout?: number; stdio?: any[] } = {}): Result {
    // cwd: conmon writes an "oom" file into the cwd it inherits
    return sh('podman', ['--runtime', TSRUN, ...args], { ...o, env: this.env, cwd: this.dir });
  }

  ok(args: string[], o: { input?: string; timeout?: number } = {}): string {
    return okOrThrow(`podman ${args.join(' ')}`, this.podman(args, o));
  }

  /** podman run --rm --network none IMAGE ... (flags before the image go in `flags`) */
  run(flags: string[], cmd: string[], o: { timeout?: number } = {}): Result {
    return this.podman(['run', '--rm', '--network', 'none', ...flags, IMAGE, ...cmd], o);
  }

  inspect(name: string, format: string): string {
    return this.ok(['inspect', '--format', format, name]).trim();
  }

  /** The command line (for a terminal) that runs podman with this environment. */
  commandLine(args: string[]): string {
    const env = Object.entries(this.env).map(([k, v]) => `${k}=${v}`);
    return `cd ${shellQuote(this.dir)} && ` + ['env', ...env, 'podman', '--runtime', TSRUN, ...args].map(shellQuote).join(' ');
  }

  /** Every container removed, the temp dir and what podman made on the host gone. */
  teardown(): void {
    try {
      this.podman(['rm', '--all', '--force', '--time', '0'], { timeout: 60000 });
    } finally {
      reapClientProcesses(this.dir);
      umountUnder(this.dir);
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.host.clean();
    }
  }
}

// ------------------------------------------------------------ containerd ----

export const CONTAINERD_PACKAGES = ['containerd', 'runc', 'busybox-static', 'tmux'];
/** the containerd namespace of the tests (also the top of their cgroups: /<namespace>/<id>) */
export const CTR_NAMESPACE = 'tsrun-clients';

/** A private containerd (setup-containerd.sh) whose shim runs tsrun as "runc" (the RUNC_DIR trick). */
export class Containerd {
  readonly dir: string;
  readonly sock: string;
  private pid = 0;
  private readonly host: HostLeftovers;

  private constructor(dir: string) {
    this.dir = dir;
    this.sock = path.join(dir, 'containerd', 'containerd.sock');
    // the shim sockets (/run/containerd/s) are not configurable in containerd 1.6
    this.host = new HostLeftovers(['/run/containerd'], [CTR_NAMESPACE]);
  }

  static async setup(): Promise<Containerd | string> {
    const why = ensurePackages(CONTAINERD_PACKAGES);
    if (why) return why;
    const c = new Containerd(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-containerd-')));
    try {
      await c.start();
      const tar = makeRootfsTar(c.dir);
      const oci = path.join(c.dir, 'busybox-oci.tar');
      okOrThrow('make-oci-archive.sh', sh('bash', [path.join(FIXTURES, 'make-oci-archive.sh'), tar, oci, IMAGE]));
      okOrThrow('ctr image import', c.ctr(['image', 'import', oci]));
    } catch (e) {
      c.teardown();
      throw e;
    }
    return c;
  }

  private async start(): Promise<void> {
    const C = path.join(this.dir, 'containerd');
    const runcDir = path.join(this.dir, 'runc-dir');
    fs.mkdirSync(C, { recursive: true });
    fs.mkdirSync(runcDir);
    // the shim's default BinaryName "runc" resolves through containerd's PATH
    fs.symlinkSync(TSRUN, path.join(runcDir, 'runc'));
    fs.writeFileSync(
      path.join(C, 'config.toml'),
      `version = 2
root = "${C}/root"
state = "${C}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "${this.sock}"

[ttrpc]
  address = "${this.sock}.ttrpc"

[debug]
  level = "info"

[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true
`,
    );
    const log = fs.openSync(path.join(C, 'containerd.log'), 'a');
    const child = spawn('containerd', ['--config', path.join(C, 'config.toml')], {
      env: { ...baseEnv, PATH: `${runcDir}:${baseEnv.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
      stdio: ['ignore', log, log],
      cwd: C,
      detached: true,
    });
    fs.closeSync(log);
    child.unref();
    this.pid = child.pid ?? 0;
    fs.writeFileSync(path.join(C, 'containerd.pid'), String(this.pid));
    await waitFor(() => sh('ctr', ['-a', this.sock, 'version']).code === 0, 15000, 'containerd to answer');
  }

  /** ctr -a SOCK -n tsrun-clients ARGS */
  ctr(args: string[], o: { input?: string; timeout?: number } = {}): Result {
    return sh('ctr', ['-a', this.sock, '-n', CTR_NAMESPACE, ...args], { ...o, cwd: this.dir });
  }

  ok(args: string[], o: { input?: string; timeout?: number } = {}): string {
    return okOrThrow(`ctr ${args.join(' ')}`, this.ctr(args, o));
  }

  /** tsrun's state dir for the tasks (ctr run --runc-root) */
  get runcRoot(): string {
    return path.join(this.dir, 'runc-root');
  }

  /** the flags every `ctr run` of the tests passes: state and fifos in the temp dir */
  get runFlags(): string[] {
    return ['--runc-root', this.runcRoot, '--fifo-dir', path.join(this.dir, 'fifo')];
  }

  commandLine(args: string[]): string {
    return ['ctr', '-a', this.sock, '-n', CTR_NAMESPACE, ...args].map(shellQuote).join(' ');
  }

  /** Tasks killed, containers removed, containerd stopped (by its pid), temp dir and host leftovers removed. */
  teardown(): void {
    try {
      if (this.pid && sh('ctr', ['-a', this.sock, 'version']).code === 0) {
        const tasks = this.ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean);
        for (const t of tasks) this.ctr(['task', 'kill', '-a', '-s', 'SIGKILL', t]);
        for (const t of tasks) {
          for (let i = 0; i < 50 && this.ctr(['task', 'delete', '-f', t]).code !== 0; i++) spawnSync('sleep', ['0.1']);
        }
        for (const c of this.ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) this.ctr(['container', 'rm', c]);
        this.ctr(['image', 'rm', IMAGE]);
        this.ctr(['namespace', 'rm', CTR_NAMESPACE]);
      }
    } finally {
      if (this.pid) {
        try {
          process.kill(this.pid, 'SIGTERM');
          // our child: once it exits it stays a zombie until the event loop reaps it
          const alive = () => !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8'));
          for (let i = 0; i < 100 && alive(); i++) spawnSync('sleep', ['0.05']);
          process.kill(this.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      reapClientProcesses(this.dir);
      umountUnder(this.dir);
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.host.clean();
    }
  }
}

// --------------------------------------------------------------- terminal ----

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * A real terminal: a tmux server on a private socket with one window running
 * `command`.  After the command the window prints "RC=<status>" and stays.
 */
export class Terminal {
  private readonly sock: string;

  constructor(dir: string, command: string, size = { cols: 100, rows: 30 }) {
    this.sock = path.join(dir, `tmux-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
    okOrThrow(
      'tmux new-session',
      sh('tmux', ['-S', this.sock, 'new-session', '-d', '-s', 't', '-x', String(size.cols), '-y', String(size.rows), `${command}; echo RC=$?; sleep 600`]),
    );
  }

  private tmux(args: string[]): string {
    return okOrThrow(`tmux ${args[0]}`, sh('tmux', ['-S', this.sock, ...args]));
  }

  send(line: string): void {
    this.tmux(['send-keys', '-t', 't', '-l', line]);
    this.tmux(['send-keys', '-t', 't', 'Enter']);
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-t', 't', '-S', '-200']);
  }

  resize(cols: number, rows: number): void {
    this.tmux(['resize-window', '-t', 't', '-x', String(cols), '-y', String(rows)]);
  }

  /** Waits until the screen matches re; returns the match. */
  async waitFor(re: RegExp, timeoutMs = 15000): Promise<RegExpMatchArray> {
    let m: RegExpMatchArray | null = null;
    try {
      await waitFor(() => !!(m = re.exec(this.screen())), timeoutMs, `${re} on the terminal`);
    } catch (e) {
      throw new Error(`${(e as Error).message}; screen:\n${this.screen()}`);
    }
    return m!;
  }

  close(): void {
    sh('tmux', ['-S', this.sock, 'kill-server']);
    fs.rmSync(this.sock, { force: true });
  }
}
