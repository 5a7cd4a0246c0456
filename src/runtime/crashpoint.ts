// Crash points for tests: TSRUN_TEST_KILL_AT=<step> makes tsrun SIGKILL
// itself when it reaches that step, so tests can check that a runtime killed
// at the worst moment leaves a container `state` reports truthfully and
// `delete --force` removes completely.  TSRUN_TEST_SHIM_KILL_AT=<step> is
// passed to the shim, which does the same at its own steps
// (native-shim/src/main.c, test_kill_point).  Unset, each check is one
// property read.

/** The steps of `create`, in order (docs/reliability.md lists what exists at each). */
export const CREATE_STEPS = [
  'claimed', // the state dir exists (mkdir), nothing else
  'state-written', // state.json and config.json written
  'layers', // image layers unpacked, the write layer made (tsrun.layers only)
  'cgroup', // the cgroup directories exist
  'fifo', // the exec fifo exists
  'shim-spawned', // the shim process runs, the plan is not yet sent
  'pid', // the container pid is in state.json, the shim goes on
  'before-ready', // the shim reported READY; state.json still names the creator
] as const;

/** The shim's steps (P is the shim, C the container init it clones). */
export const SHIM_STEPS = [
  'plan', // P: the plan is read
  'cgroup', // P: joined the cgroups
  'clone', // P: C exists, its pid not yet reported
  'pid-sent', // P: the pid is reported, C not yet released
  'child-rootfs', // C: mounts done, before pivot_root
  'child-ready', // C: everything set up, READY not yet sent
] as const;

export type CreateStep = (typeof CREATE_STEPS)[number];

export function crashPoint(step: CreateStep): void {
  if (process.env.TSRUN_TEST_KILL_AT !== step) return;
  process.kill(process.pid, 'SIGKILL');
  // the signal is fatal at once; never run another line of create meanwhile
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** The environment the shim gets: empty, except the shim's crash point for tests. */
export function shimEnv(): NodeJS.ProcessEnv {
  const at = process.env.TSRUN_TEST_SHIM_KILL_AT;
  return at ? { TSRUN_TEST_SHIM_KILL_AT: at } : {};
}
