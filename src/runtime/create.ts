// create: validate everything, then make the container step by step,
// recording in state.json what exists so that a failure here, or a crash
// (delete --force later), can remove exactly what was made.
import * as fs from 'fs';
import type * as net from 'net';
import * as path from 'path';
import { cgroupPids, destroyCgroup, isFrozen, oomKills, procsFiles, setupCgroup, thaw, uniqueDirs, type CgroupOp } from '../cgroups';
import { SystemError, TsrunError, withCleanupErrors, withMessage } from '../errors';
import { human } from '../image/progress';
import { runShim, shimFds, type ShimRun } from '../shim/client';
import { lowerIdMap, lowerSpec } from '../shim/lower';
import { PLAN } from '../shim/protocol';
import { TlvWriter } from '../shim/tlv';
import type { DataOp } from '../image/store';
import type { Spec } from '../spec/types';
import { loadSpec } from '../spec/validate';
import type { RuntimeContext } from './context';
import { crashPoint, shimEnv } from './crashpoint';
import { runHooks } from './hooks';
import { validateId } from './id';
import { connectConsole } from './console';
import { shimPath } from './paths';
import { isAlive, readProcStat, waitForExit } from './proc';
import { ociState, rfc3339Now, type ContainerRecord } from './record';
import { inputsMismatch, nofileLimits, notReplayable, takeReplayInputs, writeReplay } from './replay';
import { addUserNamespace, currentCaller, rootlessPlan } from './rootless';
import { prepareRootfs, releaseRootfs } from './rootfs';
import { StateStore, writeFileAtomic } from './store';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** run in the foreground: the shim stays as the process's parent and exits with its status */
  keepParent?: boolean;
  /** changes to config.json for this container only (run/create flags); the bundle file is never written */
  override?: (spec: Spec) => void;
  /**
   * The console socket when the spec asks for a terminal and no consoleSocket
   * was given (`run -t` in the foreground: tsrun relays the pty itself).
   */
  makeConsole?: () => net.Socket;
  /** the container's stdout and stderr go to <state dir>/container.log (stdin: /dev/null) */
  logFile?: boolean;
}

/** The file `create --logs` sends the container's output to, in its state dir. */
export const LOG_FILE = 'container.log';

export interface Created {
  rec: ContainerRecord;
  shim: ShimRun;
}


export async function create(ctx: RuntimeContext, o: CreateOptions): Promise<Created> {
  const id = validateId(o.id);
  const bundle = path.resolve(o.bundle);
  // the C front asked for a replay record of this create (src/runtime/replay.ts)
  const replayInputs = takeReplayInputs();
  // validate the whole spec before any side effect
  const unprivileged = ctx.rootless && (process.geteuid?.() ?? 0) !== 0;
  const override = unprivileged
    ? (s: Spec) => {
        o.override?.(s);
        addUserNamespace(s, currentCaller());
      }
    : o.override;
  const { spec, raw: configBytes } = loadSpec(bundle, { override });
  // what this user may not have fails here, before anything is made
  const rootless = ctx.rootless ? rootlessPlan(spec) : undefined;
  if (spec.process?.terminal && !o.consoleSocket && !o.makeConsole) {
    throw new TsrunError(
      'process.terminal is true but no --console-socket was given (run it in the foreground with "tsrun run", or pass --console-socket)',
    );
  }
  if (spec.process?.terminal && o.logFile) {
    throw new TsrunError('--logs cannot capture a terminal: drop -t (or set process.terminal to false)');
  }
  if (!spec.process?.terminal && o.consoleSocket) {
    throw new TsrunError('--console-socket was given but process.terminal is false');
  }

  const st = new StateStore(ctx.root);
  const lock = st.claim(id);
  crashPoint('claimed');
  const self = readProcStat(process.pid);
  const rec: ContainerRecord = {
    ociVersion: spec.ociVersion,
    id,
    pid: 0,
    pidStartTime: 0,
    bundle,
    rootfs: '',
    created: rfc3339Now(),
    owner: '',
    annotations: spec.annotations ?? {},
    creator: self ? { pid: process.pid, startTime: self.startTime } : undefined,
    args: spec.process?.args,
    noProcess: spec.process ? undefined : true,
    hooks: { poststart: spec.hooks?.poststart, poststop: spec.hooks?.poststop },
  };
  let consoleSocket: net.Socket | undefined;
  let logFd: number | undefined;
  if (rootless?.idmapHelpers) {
    // lowerIdMap, the same text the shim's plan carries
    rec.userns = { uidMap: lowerIdMap(spec.linux?.uidMappings)!, gidMap: lowerIdMap(spec.linux?.gidMappings)!, helpers: rootless.idmapHelpers };
  }
  try {
    st.write(rec);
    const configCopy = st.writeConfig(id, spec);
    crashPoint('state-written');
    const replayable =
      !!replayInputs &&
      !notReplayable({
        spec,
        consoleSocket: o.consoleSocket,
        preserveFds: o.preserveFds,
        logFile: o.logFile,
        override,
        noPivot: o.noPivot,
        noNewKeyring: o.noNewKeyring,
        systemdCgroup: ctx.systemdCgroup,
      });
    const cgroupOps: CgroupOp[] | undefined = replayable ? [] : undefined;
    const dataOps: DataOp[] | undefined = replayable ? [] : undefined;

    // every step records what it is about to make before making it, so that
    // delete --force after a crash anywhere finds it
    const root = await prepareRootfs(ctx, id, spec, bundle, rec, () => st.write(rec), dataOps);
    rec.rootfs = root.rootfs;
    st.write(rec);
    crashPoint('layers');

    // rootless without delegated cgroups: none, as runc (rootlessPlan refused the limits)
    const cg = rootless?.noCgroups ? undefined : setupCgroup({
      id,
      cgroupsPath: spec.linux?.cgroupsPath,
      resources: spec.linux?.resources,
      devices: spec.linux?.devices,
      systemd: ctx.systemdCgroup,
      base: rootless?.cgroupBase,
      record: cgroupOps,
      onPlanned: (planned) => {
        // another container's processes there (same id under another --root, or a shared
        // cgroupsPath): destroying it later would kill them; refuse it as runc does
        const busy = cgroupPids(planned);
        if (busy.length) {
          const dir = Object.values(planned.paths)[0];
          throw new TsrunError(`cgroup "${dir}" is not empty: ${busy.length} process(es) of another container use it`);
        }
        rec.cgroup = planned;
        st.write(rec);
      },
    });
    crashPoint('cgroup');

    const fifo = st.fifoPath(id);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../sys/libc') as typeof import('../sys/libc')).mkfifo(fifo, 0o622);
    // 0622 as runc: the process opens it for writing after switching to its user;
    // chmod because the umask trims what mkfifo sets
    fs.chmodSync(fifo, 0o622);
    crashPoint('fifo');

    if (o.consoleSocket) consoleSocket = await connectConsole(o.consoleSocket);
    else if (spec.process?.terminal && o.makeConsole) consoleSocket = o.makeConsole();
    if (o.logFile) logFd = fs.openSync(path.join(st.dir(id), LOG_FILE), 'a', 0o640);
    // "created" for prestart, createRuntime and createContainer: the spec's
    // lifecycle runs them after step 2, and "created" is the status after
    // step 2 (runtime-tools' hooks_stdin checks it; runc 1.1 says "creating")
    const hookState = () => JSON.stringify(ociState(rec, 'created'));
    const hooks = spec.hooks ?? {};
    // the shim stops for prestart/createRuntime, and for createContainer/
    // startContainer too: their state must carry the pid, known only then
    const syncHooks = !!(
      hooks.prestart?.length ||
      hooks.createRuntime?.length ||
      hooks.createContainer?.length ||
      hooks.startContainer?.length
    );
    const plan = lowerSpec(spec, {
      rootfs: root.rootfs,
      rootfsMount: root.rootfsMount,
      extraMounts: root.extraMounts,
      execFifo: fifo,
      cgroupProcs: cg ? procsFiles(cg) : [],
      hookState: hookState(),
      consoleSocketFd: consoleSocket ? shimFds(o.preserveFds).console : undefined,
      preserveFds: o.preserveFds,
      keepParent: o.keepParent,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      syncHooks,
      seccompState: ociState(rec, 'creating'),
      unprivilegedMapper: unprivileged,
      idmapHelpers: rootless?.idmapHelpers,
    });

    const shim = await runShim({
      mode: 'create',
      shim: shimPath(),
      plan,
      preserveFds: o.preserveFds,
      consoleSocket,
      stdio: logFd !== undefined ? ['ignore', logFd, logFd] : undefined,
      env: shimEnv(),
      onSpawn: () => crashPoint('shim-spawned'),
      onPid: (pid) => {
        rec.pid = pid;
        rec.pidStartTime = readProcStat(pid)?.startTime ?? 0;
        st.write(rec);
        crashPoint('pid');
      },
      onHooks: async () => {
        // the namespaces exist and the root is not yet pivoted
        runHooks('prestart', hooks.prestart, hookState());
        runHooks('createRuntime', hooks.createRuntime, hookState());
        // createContainer runs during create, startContainer during start
        return new TlvWriter()
          .str(PLAN.HOOK_STATE, hookState())
          .str(PLAN.HOOK_STATE_START, hookState())
          .toBuffer();
      },
    });
    consoleSocket?.destroy();
    if (logFd !== undefined) fs.closeSync(logFd);
    logFd = undefined;
    crashPoint('before-ready');
    delete rec.creator;
    st.write(rec);
    if (o.pidFile) writeFileAtomic(path.resolve(o.pidFile), String(rec.pid));
    lock.release();
    // only for the inputs of this very call: TSRUN_REPLAY is the front's word, checked
    const mismatch =
      replayInputs &&
      inputsMismatch(replayInputs, { root: ctx.root, dataDir: ctx.dataDir, bundle, id, keepParent: !!o.keepParent, shim: shimPath() });
    if (mismatch) ctx.log.debug(`replay record not written: TSRUN_REPLAY: ${mismatch}`);
    if (replayInputs && !mismatch && cgroupOps && dataOps && cg && !root.unrecorded) {
      try {
        writeReplay(ctx.root, {
          inputs: replayInputs,
          config: configBytes,
          rec,
          configCopy,
          leaves: uniqueDirs(cg),
          ops: cgroupOps,
          dataLock: root.dataLock,
          dataOps,
          plan,
          nofile: nofileLimits(),
        });
      } catch (e) {
        // the container is made; only the next create of it is slower
        ctx.log.debug(`replay record not written: ${(e as Error).message}`);
      }
    }
    return { rec, shim };
  } catch (err) {
    consoleSocket?.destroy();
    if (logFd !== undefined) fs.closeSync(logFd);
    const pid = (err as { pid?: number }).pid || rec.pid;
    if (pid && !rec.pid) rec.pid = pid;
    // read before the cgroup goes: a limit too small to start in is the usual cause
    const oom = rec.cgroup && oomKills(rec.cgroup) ? `: ${oomNote(spec.linux?.resources?.memory?.limit)}` : '';
    const cleanupErrors = destroyContainer(ctx, st, rec);
    lock.release();
    throw withCleanupErrors(oom ? withMessage(err, `${(err as Error).message}${oom}`) : err, cleanupErrors);
  }
}

/** What to say when the kernel's OOM killer ended a container's process. */
export function oomNote(limit: number | undefined): string {
  const l = limit && limit > 0 ? ` (${human(limit)})` : '';
  return `the kernel's OOM killer ended it: the memory limit${l} is too small for it (raise -m, or linux.resources.memory.limit)`;
}

/**
 * Removes everything create makes, in reverse: the process, the cgroup, the
 * write layer, the state directory.  Used by a failed create and by delete.
 * Returns the errors met on the way (it goes on after each).
 */
export function destroyContainer(ctx: RuntimeContext, st: StateStore, rec: ContainerRecord): unknown[] {
  const errors: unknown[] = [];
  const step = (f: () => void) => {
    try {
      f();
    } catch (e) {
      errors.push(e);
    }
  };
  if (rec.pid && rec.pidStartTime && isAlive(rec.pid, rec.pidStartTime)) {
    step(() => {
      process.kill(rec.pid, 'SIGKILL');
      // a paused container's process only sees SIGKILL once thawed (as kill.ts does)
      if (rec.cgroup && isFrozen(rec.cgroup)) thaw(rec.cgroup);
      if (!waitForExit(rec.pid, rec.pidStartTime, 10000)) throw new SystemError(`container process ${rec.pid} did not exit after SIGKILL`);
    });
  }
  if (rec.cgroup) step(() => destroyCgroup(rec.cgroup!));
  step(() => releaseRootfs(ctx, rec));
  step(() => st.remove(rec.id));
  return errors;
}

