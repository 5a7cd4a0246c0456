// `tsrun commit`: a container (running, stopped or paused; not creating) to an image.
import * as path from 'path';
import { StateError, TsrunError } from '../errors';
import type { RuntimeContext } from './context';
import { load, store } from './container';
import { containerLayers } from './rootfs';

export async function commit(ctx: RuntimeContext, id: string, o: { mode: 'flat' | 'diff' | 'oci'; target: string }): Promise<void> {
  const { rec, status } = load(ctx, id);
  if (status === 'creating') throw new StateError(`cannot commit a container that is being created`);
  const spec = store(ctx).readConfig(id);
  const layers = rec.dataDir ? containerLayers(rec.dataDir, id) : [];
  if (rec.dataDir && !layers.length) throw new TsrunError(`commit: the write layer of "${id}" is missing`);
  let out = o.target;
  let tag: string | undefined;
  if (o.mode === 'oci') {
    const c = out.lastIndexOf(':');
    if (c > 0 && !out.slice(c + 1).includes('/')) {
      tag = out.slice(c + 1);
      out = out.slice(0, c);
    }
  }
  const p = spec.process;
  const { commitContainer } = await import('../image/commit');
  await commitContainer({
    dataDir: rec.dataDir ?? ctx.dataDir,
    id,
    rootfs: rec.rootfs,
    pid: status === 'running' || status === 'paused' ? rec.pid : undefined,
    layers,
    upper: rec.dataDir ? path.join(rec.dataDir, 'containers', id, 'upper') : undefined,
    volumes: (spec.tsrun?.volumes ?? []).map((v) => v.split(':')[1]).filter(Boolean),
    out: path.resolve(out),
    mode: o.mode,
    tag,
    imageConfig: p ? { args: p.args, env: p.env, cwd: p.cwd, user: p.user ? `${p.user.uid}:${p.user.gid}` : undefined } : undefined,
  });
}
