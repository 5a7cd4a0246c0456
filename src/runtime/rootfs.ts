// The container's root: a directory given by root.path, or (tsrun.layers) an
// overlay of image layers under a write layer of its own.
import * as path from 'path';
import type { Mount, Spec } from '../spec/types';
import type { RootfsMount } from '../shim/lower';
import type { RuntimeContext } from './context';
import type { ContainerRecord } from './record';

export interface PreparedRoot {
  /** absolute host path the shim pivots into */
  rootfs: string;
  /** overlay the shim mounts on rootfs first */
  rootfsMount?: RootfsMount;
  /** volumes, as bind mounts after config.mounts */
  extraMounts?: Mount[];
}

export async function prepareRootfs(
  _ctx: RuntimeContext,
  _id: string,
  spec: Spec,
  bundle: string,
  _rec: ContainerRecord,
): Promise<PreparedRoot> {
  return { rootfs: path.resolve(bundle, spec.root?.path ?? 'rootfs') };
}

/** Removes the write layer and any mount tsrun made for the container (idempotent). */
export function releaseRootfs(_ctx: RuntimeContext, _rec: ContainerRecord): void {}
