// A private buildah for the tests: its store (--root, --runroot), its temp
// files (TMPDIR: the RUN steps' bundles) and the runtimes' state dirs live in
// one temp dir; teardown removes the containers, images and mounts, the dir,
// and what buildah made on the host (containers/image's blob cache in
// /var/lib/containers, the RUN steps' cgroup parent) if it was not there.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { type Result } from './tsrun';
import { FIXTURES, HostLeftovers, IMAGE, ensurePackages, sh, umountUnder } from './clients';

export const BUILDAH_PACKAGES = ['buildah', 'runc', 'busybox-static'];

export class Buildah {
  readonly dir: string;
  /** the cgroup of every RUN step (buildah bud --cgroup-parent: the container's cgroupsPath is this parent itself) */
  readonly cgroupParent: string;
  private readonly host: HostLeftovers;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(dir: string) {
    this.dir = dir;
    this.cgroupParent = `/tsrun-test-buildah-${process.pid}`;
    this.host = new HostLeftovers(['/var/lib/containers'], [this.cgroupParent.slice(1)]);
    fs.mkdirSync(path.join(dir, 'tmp'));
    this.env = { TMPDIR: path.join(dir, 'tmp') };
  }

  /** Installs what is missing and pulls the busybox image (an OCI archive, no registry).  A string: why the test must be skipped. */
  static setup(): Buildah | string {
    const why = ensurePackages(BUILDAH_PACKAGES);
    if (why) return why;
    const b = new Buildah(fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-buildah-')));
    try {
      const rootfs = path.join(b.dir, 'rootfs');
      const r = sh('sh', [path.join(FIXTURES, 'make-rootfs.sh'), rootfs]);
      if (r.code !== 0) throw new Error(`make-rootfs.sh: ${r.stderr}`);
      const oci = path.join(b.dir, 'busybox-oci.tar');
      const a = sh('bash', [path.join(FIXTURES, 'make-oci-archive.sh'), `${rootfs}.tar`, oci, IMAGE]);
      if (a.code !== 0) throw new Error(`make-oci-archive.sh: ${a.stderr}`);
      b.ok(['pull', '-q', `oci-archive:${oci}`]);
    } catch (e) {
      b.teardown();
      throw e;
    }
    return b;
  }

  /** buildah --root ... --runroot ... ARGS */
  buildah(args: string[], o: { timeout?: number } = {}): Result {
    const store = ['--root', path.join(this.dir, 'storage'), '--runroot', path.join(this.dir, 'run'), '--storage-driver', 'overlay'];
    return sh('buildah', [...store, ...args], { env: this.env, cwd: this.dir, timeout: o.timeout ?? 120000 });
  }

  ok(args: string[], o: { timeout?: number } = {}): string {
    const r = this.buildah(args, o);
    if (r.code !== 0) throw new Error(`buildah ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /**
   * buildah bud of `containerfile` with `runtime` (its state in a dir of its
   * own: --runtime-flag root=), OCI isolation, no network (buildah's default
   * network is a CNI bridge on the host).
   */
  bud(runtime: string, name: string, containerfile: string, tag: string): Result {
    const ctx = path.join(this.dir, `ctx-${name}`);
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Containerfile'), containerfile);
    return this.buildah(
      [
        'bud', '--isolation', 'oci', '--network', 'none', '--cgroup-parent', this.cgroupParent,
        '--runtime', runtime, '--runtime-flag', `root=${path.join(this.dir, `state-${name}`)}`,
        '-f', path.join(ctx, 'Containerfile'), '-t', tag, ctx,
      ],
      { timeout: 300000 },
    );
  }

  /** The content of the files of an image (buildah from + mount), or null for a file that is not there. */
  readFiles(image: string, files: string[]): Record<string, string | null> {
    const ctr = this.ok(['from', '--pull-never', image]).trim();
    try {
      const mnt = this.ok(['mount', ctr]).trim();
      const out: Record<string, string | null> = {};
      for (const f of files) {
        const p = path.join(mnt, f);
        out[f] = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
      }
      return out;
    } finally {
      this.buildah(['umount', ctr]);
      this.buildah(['rm', ctr]);
    }
  }

  /** Every container and image removed, anything mounted under the dir unmounted, the dir removed, buildah's host leftovers removed. */
  teardown(): void {
    try {
      this.buildah(['rm', '--all']);
      this.buildah(['rmi', '--all', '--force']);
    } finally {
      umountUnder(this.dir);
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.host.clean();
    }
  }
}
