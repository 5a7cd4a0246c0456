// A user of the tests' own, for rootless tests run by root: a unique name,
// its home in a test dir, /etc/subuid and /etc/subgid ranges of 65536 ids,
// an XDG_RUNTIME_DIR of its own.  remove() kills its processes and removes
// it, its home and its ranges.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { alive, uniqueId } from './leftovers';
import type { Result } from './tsrun';

export interface IdRange {
  start: number;
  size: number;
}

export class TestUser {
  readonly name: string;
  readonly home: string;
  /** its XDG_RUNTIME_DIR (mode 0700, its own) */
  readonly runDir: string;
  uid = -1;
  gid = -1;
  subuid: IdRange = { start: 0, size: 0 };
  subgid: IdRange = { start: 0, size: 0 };

  /** A user whose home is dir/home (dir must be reachable: mode 0711). */
  constructor(dir: string, prefix: string) {
    this.name = uniqueId(prefix).slice(0, 31);
    this.home = path.join(dir, 'home');
    this.runDir = path.join(this.home, 'run');
  }

  /** useradd, ranges when useradd gave none, the runtime dir; throws what failed. */
  create(): this {
    const add = spawnSync('useradd', ['--home-dir', this.home, '--create-home', '--user-group', '--shell', '/bin/sh', this.name], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`useradd: ${add.stderr}`);
    this.uid = Number(spawnSync('id', ['-u', this.name], { encoding: 'utf8' }).stdout.trim());
    this.gid = Number(spawnSync('id', ['-g', this.name], { encoding: 'utf8' }).stdout.trim());
    this.subuid = this.range('/etc/subuid');
    this.subgid = this.range('/etc/subgid');
    if (this.subuid.size < 65536 || this.subgid.size < 65536) {
      // useradd made none (SUB_UID_COUNT 0): a range above every other
      const top = (f: string) =>
        Math.max(
          100000,
          ...fs
            .readFileSync(f, 'utf8')
            .split('\n')
            .map((l) => l.split(':'))
            .filter((p) => p.length === 3)
            .map((p) => Number(p[1]) + Number(p[2])),
        );
      const start = Math.max(top('/etc/subuid'), top('/etc/subgid'));
      const r = spawnSync('usermod', ['--add-subuids', `${start}-${start + 65535}`, '--add-subgids', `${start}-${start + 65535}`, this.name], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`usermod --add-subuids: ${r.stderr}`);
      this.subuid = this.range('/etc/subuid');
      this.subgid = this.range('/etc/subgid');
    }
    fs.mkdirSync(this.runDir, { mode: 0o700 });
    fs.chownSync(this.runDir, this.uid, this.gid);
    return this;
  }

  private range(file: string): IdRange {
    const line = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${this.name}:`));
    if (!line) return { start: 0, size: 0 };
    const [, start, size] = line.split(':');
    return { start: Number(start), size: Number(size) };
  }

  /** Files under its home made by root handed to it (chown -R). */
  own(p: string): void {
    const r = spawnSync('chown', ['-R', `${this.uid}:${this.gid}`, p], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`chown ${p}: ${r.stderr}`);
  }

  /**
   * argv as the user (runuser), in its home, with only PATH, HOME,
   * XDG_RUNTIME_DIR (unless noRuntimeDir) and env.  Output goes to files, not pipes: a process it
   * leaves running (a container, conmon) would hold a pipe open.
   */
  run(argv: string[], o: { env?: Record<string, string>; timeout?: number; noRuntimeDir?: boolean } = {}): Result {
    const env = [`PATH=${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, `HOME=${this.home}`];
    if (!o.noRuntimeDir) env.push(`XDG_RUNTIME_DIR=${this.runDir}`);
    for (const [k, v] of Object.entries(o.env ?? {})) env.push(`${k}=${v}`);
    const out = path.join(path.dirname(this.home), `.out-${process.pid}`);
    const err = path.join(path.dirname(this.home), `.err-${process.pid}`);
    const fo = fs.openSync(out, 'w+');
    const fe = fs.openSync(err, 'w+');
    try {
      const r = spawnSync('runuser', ['-u', this.name, '--', 'env', '-i', ...env, ...argv], { cwd: this.home, timeout: o.timeout ?? 60000, stdio: ['ignore', fo, fe] });
      return { code: r.status ?? 128, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fs.closeSync(fo);
      fs.closeSync(fe);
      fs.rmSync(out, { force: true });
      fs.rmSync(err, { force: true });
    }
  }

  /** Its live processes (zombies are not: they hold nothing, and an init that does not reap keeps them). */
  pids(): { pid: number; comm: string }[] {
    if (this.uid < 0) return [];
    const out: { pid: number; comm: string }[] = [];
    for (const n of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(n)) continue;
      try {
        const st = fs.readFileSync(`/proc/${n}/status`, 'utf8');
        if (/^Uid:\s+(\d+)/m.exec(st)?.[1] === String(this.uid) && alive(Number(n))) out.push({ pid: Number(n), comm: /^Name:\s+(.*)$/m.exec(st)?.[1] ?? '' });
      } catch {
        /* gone */
      }
    }
    return out;
  }

  /** Its processes killed, the user, its home and its subuid/subgid lines removed. */
  remove(): void {
    if (this.uid < 0) return;
    for (const { pid } of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('userdel', ['--remove', this.name], { encoding: 'utf8' });
    // userdel may leave them
    for (const f of ['/etc/subuid', '/etc/subgid']) {
      const text = fs.readFileSync(f, 'utf8');
      const kept = text.split('\n').filter((l) => !l.startsWith(`${this.name}:`));
      if (kept.length !== text.split('\n').length) fs.writeFileSync(f, kept.join('\n'));
    }
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
