// What tsrun remembers about a container, in <root>/<id>/state.json, and the
// OCI state document derived from it.
import type { CgroupRecord } from '../cgroups';
import type { Hook, Spec } from '../spec/types';
import type { Status } from './status';

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** host pid of the container init; 0 until the shim reported it */
  pid: number;
  /** the init's start time (clock ticks, /proc/PID/stat field 22): tells a reused pid apart */
  pidStartTime: number;
  bundle: string;
  rootfs: string;
  /** RFC 3339 */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** the `tsrun create` process, while it is creating */
  creator?: { pid: number; startTime: number };
  cgroup?: CgroupRecord;
  /** set when tsrun made a write layer for this container under this data dir */
  dataDir?: string;
  /** digests of the image layers the container uses */
  layers?: string[];
  /** the image, for `list`: the tsrun.layers entry as given (the top one, "+N" when it sits on N more) */
  image?: string;
  /** process.args, for `list` */
  args?: string[];
  /** hooks tsrun runs after create returns (copied: the bundle may change) */
  hooks?: { poststart?: Hook[]; poststop?: Hook[] };
  /**
   * rootless with /etc/subuid ranges: the maps (as written to uid_map and
   * gid_map) and the helpers that wrote them; delete needs them to remove a
   * write layer holding files of those ids
   */
  userns?: { uidMap: string; gidMap: string; helpers: { uid: string; gid: string } };
  /** namespaces the container shares with the host (by type), to know whether --all is needed */
  sharedPidNamespace?: boolean;
  /** config.json had no process: the container exists but cannot start */
  noProcess?: boolean;
}

export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** The state document as `runc state` prints it. */
export function ociState(rec: ContainerRecord, status: Status): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}

/** RFC 3339 with nanoseconds, as runc writes `created`. */
export function rfc3339Now(): string {
  const ns = process.hrtime.bigint() % 1000000n;
  const iso = new Date().toISOString(); // 2026-11-23T10:05:02.538Z
  return `${iso.slice(0, 23)}${ns.toString().padStart(6, '0')}Z`;
}

export type { Spec };
