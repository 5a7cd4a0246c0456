// The container's root: a directory given by root.path, or (tsrun.layers) an
// overlay of image layers under a write layer of its own.  The overlay is
// mounted by the shim inside the container's mount namespace (rootfsMount),
// so no host mount exists for it; volumes are bind mounts after config.mounts.
import * as fs from 'fs';
import * as path from 'path';
import type { DataOp } from '../image/store';
import type { Mount, Spec } from '../spec/types';
import type { RootfsMount } from '../shim/lower';
import { SystemError, TsrunError } from '../errors';
import { reason } from '../cgroups/fs';
import type { RuntimeContext } from './context';
import { STATE_FILE } from './paths';
import type { ContainerRecord } from './record';

export interface PreparedRoot {
  /** absolute host path the shim pivots into */
  rootfs: string;
  /** overlay the shim mounts on rootfs first */
  rootfsMount?: RootfsMount;
  /** volumes, as bind mounts after config.mounts */
  extraMounts?: Mount[];
  /** with layers: <dataDir>/store.lock, held shared while the data ops run (a replay's RP_DATA_LOCK) */
  dataLock?: string;
  /** why prepareRootfs' record (DataOp) does not describe what it did: then no replay record */
  unrecorded?: string;
}

/** <dataDir>/containers/<id>/layers: the layers of a container made by an older tsrun (now in OWNER_FILE). */
export const LAYERS_FILE = 'layers';
/**
 * <dataDir>/containers/<id>/owner: {"root": "<--root>", "layers": [{digest, dir}]}: the state
 * dir <root>/<id> that owns the write layer, and the layers it sits on (prune keeps them).
 * One file, not two: every create and delete pays per file on the host file system.
 */
export const OWNER_FILE = 'owner';

interface Owner {
  root: string;
  layers?: { digest: string; dir: string }[];
}

function readOwner(dir: string): Owner | null {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
    return typeof o?.root === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** True when <owner.root>/<id>/state.json exists and names this data dir: the write layer is in use. */
function ownerHolds(owner: Owner, dataDir: string, id: string): boolean {
  try {
    const rec = JSON.parse(fs.readFileSync(path.join(owner.root, id, STATE_FILE), 'utf8')) as ContainerRecord;
    return rec.dataDir === dataDir;
  } catch {
    return false;
  }
}

function containerDir(dataDir: string, id: string): string {
  return path.join(dataDir, 'containers', id);
}

export async function prepareRootfs(
  ctx: RuntimeContext,
  id: string,
  spec: Spec,
  bundle: string,
  rec: ContainerRecord,
  /** writes rec to state.json: called before anything is made that delete must find */
  persist: () => void = () => {},
  /**
   * Filled with what this checks and makes under the data dir, for a replay
   * record (src/runtime/replay.ts); PreparedRoot.unrecorded says when it cannot be.
   */
  record?: DataOp[],
): Promise<PreparedRoot> {
  const ext = spec.tsrun ?? {};
  const layersGiven = (ext.layers ?? []).length > 0;
  const volumesGiven = (ext.volumes ?? []).length > 0;
  if (!layersGiven && !volumesGiven) return { rootfs: path.resolve(bundle, spec.root?.path ?? 'rootfs') };

  // the modules this needs, not '../image' (whose commit part loads crypto and zlib)
  const store = await import('../image/store');
  const ov = await import('../image/overlay');
  const volumes = (ext.volumes ?? []).map((v) => ov.parseVolume(v)); // config errors before any side effect
  const extraMounts: Mount[] = volumes.map((v) => ({
    destination: v.destination,
    type: 'bind',
    source: v.source,
    options: ['rbind', 'rprivate', v.readonly ? 'ro' : 'rw'],
  }));

  if (!layersGiven) {
    // a plain root dir is the container's write layer: the destinations go there
    const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
    ov.prepareVolumes(volumes, { upper: rootfs, work: '', root: rootfs }, []);
    return { rootfs, extraMounts };
  }

  const dataDir = path.resolve(ctx.dataDir);
  const { parseLayerSource } = await import('../image/source');
  const sources = ext.layers!.map((e) => parseLayerSource(e, bundle));
  rec.image = imageLabel(ext.layers!);
  // an image (OCI layout or archive) is resolved through its manifests: not data a replay checks
  let unrecorded = sources.some((s) => s.kind !== 'tar' && s.kind !== 'dir') ? 'an OCI image' : undefined;
  if (unrecorded) record = undefined;
  // Held until the layer list is on disk under the container: prune (exclusive) cannot
  // remove a layer between ensureLayers and the moment this container claims it.
  const unlock = store.lockStore(dataDir, 'shared');
  try {
    const layers = await store.ensureLayers(dataDir, sources, { record });
    const own = path.resolve(ctx.root);
    const existing = readOwner(containerDir(dataDir, id));
    if (existing && path.resolve(existing.root) !== own && ownerHolds(existing, dataDir, id)) {
      throw new TsrunError(`container "${id}" of --root "${existing.root}" uses the write layer "${containerDir(dataDir, id)}": use another id`);
    }
    rec.dataDir = dataDir; // from here on, delete/failed create removes the write layer
    rec.layers = layers.map((l) => l.digest);
    persist();
    // a write layer left by a crash or a reboot (/run emptied) is stale: this create owns the id now
    record?.push({ op: 'absent', path: containerDir(dataDir, id) });
    ov.removeContainerStorage(dataDir, id);
    const st = ov.createContainerStorage(dataDir, id, record);
    const owner: Owner = { root: own, layers };
    const ownerFile = path.join(st.root, OWNER_FILE);
    const ownerText = JSON.stringify(owner);
    fs.writeFileSync(ownerFile, ownerText);
    record?.push({ op: 'write', path: ownerFile, value: ownerText });
    if (volumes.length) unrecorded ??= 'volumes';
    ov.prepareVolumes(volumes, st, layers);
    const plan = ov.overlayMountPlan(layers, st, { volatile: ext.volatile });
    // the short links under <dataDir>/l are made here, not checked by a replay
    if (plan.chdir) unrecorded ??= 'layer paths too long for one overlay mount';
    return { rootfs: path.join(st.root, 'merged'), rootfsMount: plan, extraMounts, dataLock: store.storeLockPath(dataDir), unrecorded };
  } finally {
    unlock();
  }
}

/**
 * What `list` shows as the image: the layers entry as written in config.json
 * (a path relative to the bundle, or absolute, with its ":tag"); with several
 * layers the top one and how many it sits on ("app.tar +1").
 */
export function imageLabel(layers: string[]): string {
  const top = layers[layers.length - 1];
  return layers.length > 1 ? `${top} +${layers.length - 1}` : top;
}

/** Removes the write layer and any mount tsrun made for the container (idempotent). Volumes and layers stay.
 *  A write layer another --root's container owns now is left alone. */
export function releaseRootfs(ctx: RuntimeContext, rec: ContainerRecord): void {
  if (!rec.dataDir) return;
  const owner = readOwner(containerDir(rec.dataDir, rec.id));
  if (owner && path.resolve(owner.root) !== path.resolve(ctx.root)) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const img = require('../image/overlay') as typeof import('../image/overlay');
  try {
    img.removeContainerStorage(rec.dataDir, rec.id);
  } catch (e) {
    const dir = containerDir(rec.dataDir, rec.id);
    // rootless: files of the user's subordinate ids, removable only in a user namespace that maps them
    if (rec.userns) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('./rootless') as typeof import('./rootless')).removeMapped(dir, rec.userns);
      return;
    }
    const err = e as NodeJS.ErrnoException;
    throw new SystemError(`remove the write layer "${dir}": ${err.syscall ?? 'rm'} "${err.path ?? dir}": ${reason(err)}`, -(err.errno ?? 0));
  }
}

/** The layers a container's write layer sits on, as recorded at create. */
export function containerLayers(dataDir: string, id: string): { digest: string; dir: string }[] {
  const owner = readOwner(containerDir(dataDir, id));
  if (Array.isArray(owner?.layers)) return owner.layers;
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'containers', id, LAYERS_FILE), 'utf8'));
  } catch {
    return [];
  }
}

/** Digests every container under the data dir uses (whatever its --root). */
export function layersInUse(dataDir: string): Set<string> {
  const used = new Set<string>();
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(path.join(dataDir, 'containers'));
  } catch {
    return used;
  }
  for (const id of ids) for (const l of containerLayers(dataDir, id)) used.add(l.digest);
  return used;
}

/**
 * Removes write layers no container owns any more: their owner's state dir is
 * gone (the container was lost: a crash between steps, or a reboot emptied
 * --root) or it no longer points at this data dir.  Call with the store lock
 * held exclusively (prune does), so no create is between its steps.
 * Returns the removed directories.
 */
export function pruneWriteLayers(dataDir: string): string[] {
  dataDir = path.resolve(dataDir);
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(path.join(dataDir, 'containers'));
  } catch {
    return [];
  }
  const removed: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const img = require('../image/overlay') as typeof import('../image/overlay');
  for (const id of ids) {
    const dir = containerDir(dataDir, id);
    const owner = readOwner(dir);
    if (owner && ownerHolds(owner, dataDir, id)) continue;
    img.removeContainerStorage(dataDir, id);
    removed.push(dir);
  }
  return removed;
}
