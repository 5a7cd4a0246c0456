// The record for the C front end (native-shim/front, installed as bin/tsrun):
// <root>/<id>/front, written next to state.json by StateStore.write, so the
// front can answer `state`, `start`, `kill` and `delete` in their plain
// success cases without Node and without parsing JSON.  It holds only facts
// computed here; anything the front does not find in it, or finds unusual,
// makes it run the TypeScript CLI instead.
//
// Format (version 1), one "key value" line each, in this order:
//   tsrun-front 1
//   pid <pid>
//   start-time <pidStartTime>
//   freezer none | freezer v1 <dir> | freezer v2 <dir>      (isFrozen's source)
//   start-fast 0|1        no poststart hooks: start is "read the fifo, unlink it"
//   delete-fast 0|1       no poststop hooks, no shared pid namespace, no
//                         protected cgroup, a write layer only as below:
//                         delete is "rmdir the cgroups (below), remove the
//                         write layer (below), remove the state dir"
//   rmdir <dir>           the container's cgroup dirs, in destroyCgroup's order
//   up <n> <dir>          the parents removeEmptyParents tries for the n-th
//                         rmdir dir, deepest first (stop the chain at an error)
//   write-layer <dir>     (image layers) the write layer, <dataDir>/containers/<id>
//   write-layer-owner <root>  right after write-layer: the --root (resolved)
//                         that owns it.  releaseRootfs, exactly: when <dir>
//                         does not exist, nothing; else the front removes it
//                         (rm -r, on its file system only) when the --root it
//                         was given, resolved, is <root>, <dir>/owner begins
//                         with {"root":"<root>", (JSON.stringify(<root>) has
//                         no escape) and nothing is mounted at or under <dir>;
//                         anything else runs the TypeScript CLI
//   state-live <h> <t>    then h + t bytes and "\n": what `state` prints while
//                         the process lives; the status goes between the
//                         first h bytes and the last t
//   state-stopped <n>     then n bytes and "\n": what `state` prints once stopped
//   end
import * as path from 'path';
import type { CgroupRecord } from '../cgroups';
import { isProtected, isRootCgroup } from '../cgroups/fs';
import { ociState, type ContainerRecord } from './record';

export const FRONT_FILE = 'front';
export const FRONT_VERSION = 1;

/** What `tsrun state` prints (the one definition: the state command uses it too). */
export function stateText(rec: ContainerRecord, status: Parameters<typeof ociState>[1]): string {
  return JSON.stringify(ociState(rec, status), null, 2) + '\n';
}

export interface FrontOptions {
  /** isRootCgroup (tests pass their own) */
  isRoot?: (dir: string) => boolean;
  /** the --root of the state store: a write layer's delete is fast only when known */
  root?: string;
}

/** The write-layer lines of a container on image layers; undefined when its delete needs Node. */
export function writeLayerLines(rec: ContainerRecord, root: string | undefined): string[] | undefined {
  if (!rec.dataDir || root === undefined) return undefined;
  const dir = path.join(rec.dataDir, 'containers', rec.id);
  const owner = path.resolve(root);
  // the front compares the owner file's bytes: the root must be written as is
  if (JSON.stringify(owner) !== `"${owner}"` || !path.isAbsolute(dir) || dir.includes('\n')) return undefined;
  return [`write-layer ${dir}`, `write-layer-owner ${owner}`];
}

/** isFrozen's source: the v1 freezer, else the v2 cgroup.freeze of the unified dir. */
function freezerLine(cg: CgroupRecord | undefined): string {
  if (!cg) return 'freezer none';
  if (cg.mode !== 'v2' && cg.paths.freezer) return `freezer v1 ${cg.paths.freezer}`;
  if (cg.paths.unified) return `freezer v2 ${cg.paths.unified}`;
  return 'freezer none';
}

/** removeEmptyParents' walk, precomputed: the parents of dir it would try, deepest first. */
export function emptyParents(dir: string, isRoot: (d: string) => boolean): string[] {
  const out: string[] = [];
  for (let d = path.dirname(dir); !isRoot(d) && !isProtected(d) && d.startsWith('/sys/fs/cgroup/'); d = path.dirname(d)) out.push(d);
  return out;
}

/** The front record in the parts replay.ts needs: its lines up to state-live (each ending in "\n"), and the state texts. */
export interface FrontParts {
  head: string;
  liveHead: string;
  liveTail: string;
  stopped: string;
}

/**
 * The front record of a container, or undefined while the record is not
 * complete (no pid yet, or create still running): the front then has nothing
 * to go on and runs the TypeScript CLI.
 */
export function frontRecord(rec: ContainerRecord, o: FrontOptions = {}): string | undefined {
  const p = frontRecordParts(rec, o);
  if (!p) return undefined;
  const len = (s: string) => Buffer.byteLength(s);
  return (
    p.head +
    `state-live ${len(p.liveHead)} ${len(p.liveTail)}\n` +
    p.liveHead +
    p.liveTail +
    `\nstate-stopped ${len(p.stopped)}\n` +
    p.stopped +
    '\nend\n'
  );
}

export function frontRecordParts(rec: ContainerRecord, o: FrontOptions = {}): FrontParts | undefined {
  if (!rec.pid || !rec.pidStartTime || rec.creator) return undefined;
  const isRoot = o.isRoot ?? isRootCgroup;
  const cg = rec.cgroup;
  const dirs = cg ? [...new Set(Object.values(cg.paths))] : [];
  const parents = dirs.map((d) => emptyParents(d, isRoot));
  // the front reads line by line
  if ([...dirs, ...parents.flat()].some((d) => d.includes('\n') || !path.isAbsolute(d))) return undefined;
  const layer = rec.dataDir ? writeLayerLines(rec, o.root) : [];
  const deleteFast =
    !rec.hooks?.poststop?.length &&
    !!layer &&
    (!!rec.dataDir || !rec.layers?.length) &&
    !rec.sharedPidNamespace &&
    !dirs.some((d) => isProtected(d));
  const lines = [
    `tsrun-front ${FRONT_VERSION}`,
    `pid ${rec.pid}`,
    `start-time ${rec.pidStartTime}`,
    freezerLine(cg),
    // start of a container without a process fails, in Node (runtime/start.ts)
    `start-fast ${rec.hooks?.poststart?.length || rec.noProcess ? 0 : 1}`,
    `delete-fast ${deleteFast ? 1 : 0}`,
  ];
  if (deleteFast) {
    for (const d of dirs) lines.push(`rmdir ${d}`);
    parents.forEach((ps, i) => {
      for (const p of ps) lines.push(`up ${i} ${p}`);
    });
    lines.push(...layer!);
  }
  // the status sits right after the one top-level "status" key (a raw newline
  // and two spaces only occur between top-level members of the pretty JSON)
  const live = stateText(rec, 'created');
  const key = '\n  "status": "';
  const at = live.indexOf(key);
  if (at < 0) return undefined;
  return {
    head: lines.join('\n') + '\n',
    liveHead: live.slice(0, at + key.length),
    liveTail: live.slice(at + key.length + 'created'.length),
    stopped: stateText(rec, 'stopped'),
  };
}
